"""What a bot sends to ask "should I hand this prospect to a human now?" and what it gets back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.context import Prospect, Qualification

Category = Literal["positive", "necessary", "rescue"]
# One name per line of the seed's "Transfer Triggers".
PositiveTrigger = Literal["high_value", "buying_signal", "demo_request", "complex_question", "enterprise_inquiry"]
NecessaryTrigger = Literal[
    "bot_cannot_answer", "negotiation", "contract_legal", "escalation_requested", "language_routing"
]
RescueTrigger = Literal["frustration", "repeated_misunderstanding", "sensitive_situation", "vip_account", "complaint"]
TriggerName = Literal[PositiveTrigger, NecessaryTrigger, RescueTrigger]
TRIGGER_NAMES: tuple[TriggerName, ...] = get_args(TriggerName)
TRIGGER_CATEGORY: dict[TriggerName, Category] = {
    **dict.fromkeys(get_args(PositiveTrigger), "positive"),
    **dict.fromkeys(get_args(NecessaryTrigger), "necessary"),
    **dict.fromkeys(get_args(RescueTrigger), "rescue"),
}
Role = Literal["prospect", "bot", "rep"]
Urgency = Literal["low", "normal", "high", "critical"]
Advice = Literal["now", "wait", "collect_first"]


class _Input(BaseModel):
    """Unknown fields are refused so a typo in a bot integration surfaces as a 422, not silent loss."""

    model_config = ConfigDict(extra="forbid")


class Message(_Input):
    role: Role
    text: Annotated[str, StringConstraints(max_length=20_000)]
    at: datetime | None = None


class KnownFacts(_Input):
    prospect: Prospect | None = None
    qualification: Qualification | None = None
    vip: bool = False
    account_tier: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    bot_fallbacks: Annotated[int, Field(ge=0, le=100_000)] = 0
    """How often the bot failed to answer so far."""
    reps_available: bool | None = None
    """None: unknown."""


class EvaluateRequest(_Input):
    messages: Annotated[list[Message], Field(min_length=1, max_length=500)]
    known: KnownFacts = KnownFacts()
    locale: Annotated[str, StringConstraints(strip_whitespace=True, max_length=35)] | None = None


class Evidence(BaseModel):
    model_config = ConfigDict(frozen=True)

    message_index: int
    """Index into the request's messages; -1 when the evidence is a known fact rather than a message."""
    text: str
    """The words that fired, as the prospect (or bot) wrote them."""


class TriggerHit(BaseModel):
    name: TriggerName
    category: Category
    evidence: list[Evidence]
    confidence: Annotated[float, Field(ge=0, le=1)]


class Timing(BaseModel):
    advice: Advice | None
    reasons: list[str] = []
    missing: list[str] = []
    """What to collect before transferring, e.g. "use case", "company size", "contact info"."""


class Evaluation(BaseModel):
    transfer: bool
    category: Category | None
    triggers: list[TriggerHit]
    urgency: Urgency | None
    language: str | None
    """ISO 639-1 code of the prospect's messages, when it could be told."""
    timing: Timing
    warnings: list[str] = []
