"""What a bot sends to the Warm Transfer API and what it gets back, as typed models.

These mirror the API's OpenAPI document; they are written here, not imported from the server, so that this package
installs alone. The server's test suite compares them with the document (tests/clients/python/test_schema.py), so a
field renamed, removed or given a new value on either side fails a test.

Models of what is sent refuse unknown fields, as the API does, so a typo fails before the request is made; their
value limits (lengths, patterns) are left to the API, whose 422 names each field and its problem. Models of what is
received ignore fields they do not know, so a newer server's additions do not break this client.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Category = Literal["positive", "necessary", "rescue"]
TriggerName = Literal[
    "high_value", "buying_signal", "demo_request", "complex_question", "enterprise_inquiry",
    "bot_cannot_answer", "negotiation", "contract_legal", "escalation_requested", "language_routing",
    "frustration", "repeated_misunderstanding", "sensitive_situation", "vip_account", "complaint",
]
Status = Literal[
    "requested", "preparing", "checking", "offered", "connecting", "connected", "completed", "queued", "after_hours",
    "recovering", "callback_scheduled", "email_follow_up", "async_follow_up", "abandoned", "cancelled",
]
FINAL_STATUSES: frozenset[Status] = frozenset({"completed", "abandoned", "cancelled"})
Branch = Literal["immediate", "queued", "callback", "email", "async", "failed", "abandoned", "cancelled"]
BotLineKind = Literal[
    "prepare", "available", "queued", "queue_update", "callback_offered", "callback_confirmed", "email_confirmed",
    "after_hours", "async_confirmed", "connecting", "rerouting", "failed", "connected", "closing",
]
ProspectActionName = Literal["note", "proceed", "wait", "callback", "email", "replied", "left"]
RepActionName = Literal["accept", "decline", "defer", "schedule_callback", "ack", "outcome"]
Outcome = Literal["converted", "demo_booked", "nurture", "lost"]


class Sent(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Received(BaseModel):
    model_config = ConfigDict(extra="ignore")


# ---- the context package (the seed's JSON schema) -------------------------------------------------------------


class Prospect(Sent):
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    title: str | None = None
    account_id: str | None = None
    timezone: str | None = None


class Conversation(Sent):
    channel: str | None = None
    duration_minutes: float | None = None
    messages_exchanged: int | None = None
    started_at: datetime | None = None


class Summary(Sent):
    entry_point: str | None = None
    initial_question: str | None = None
    key_needs: list[str] = []
    pain_points: list[str] = []
    objections_raised: list[str] = []
    objections_addressed: bool | None = None


class Qualification(Sent):
    company_size: str | None = None
    use_case: str | None = None
    timeline: str | None = None
    budget: str | None = None
    decision_maker: bool | None = None
    score: int | None = None


class Sentiment(Sent):
    overall: Literal["positive", "neutral", "negative", "mixed"] | None = None
    frustration_level: Literal["none", "low", "medium", "high"] | None = None
    buying_intent: Literal["low", "medium", "high"] | None = None
    notes: str | None = None


class ContextPackage(Sent):
    transfer_id: str | None = None
    timestamp: datetime | None = None
    prospect: Prospect = Prospect()
    conversation: Conversation = Conversation()
    summary: Summary = Summary()
    qualification: Qualification = Qualification()
    sentiment: Sentiment = Sentiment()
    transfer_reason: str | None = None
    recommended_approach: str | None = None
    conversation_transcript: str | None = None
    prospect_notes: list[str] = []


# ---- should the bot transfer now? -----------------------------------------------------------------------------


class Message(Sent):
    role: Literal["prospect", "bot", "rep"]
    text: str
    at: datetime | None = None


class KnownFacts(Sent):
    prospect: Prospect | None = None
    qualification: Qualification | None = None
    vip: bool = False
    account_tier: str | None = None
    bot_fallbacks: int = 0
    reps_available: bool | None = None


class EvaluateRequest(Sent):
    messages: list[Message]
    known: KnownFacts = KnownFacts()
    locale: str | None = None


class Evidence(Received):
    message_index: int
    text: str


class TriggerHit(Received):
    name: TriggerName
    category: Category
    evidence: list[Evidence]
    confidence: float


class Timing(Received):
    advice: Literal["now", "wait", "collect_first"] | None
    reasons: list[str] = []
    missing: list[str] = []


class Evaluation(Received):
    transfer: bool
    category: Category | None
    triggers: list[TriggerHit]
    urgency: Literal["low", "normal", "high", "critical"] | None
    language: str | None
    timing: Timing
    warnings: list[str] = []


# ---- starting a transfer and moving it on ---------------------------------------------------------------------


class Routing(Sent):
    team: str | None = None
    skills: list[str] = []
    language: str | None = None
    preferred_rep_id: str | None = None
    priority: int = 0


class BotInfo(Sent):
    name: str = "Assistant"
    locale: str = "en"
    callback_url: str | None = None


class TriggerInfo(Sent):
    """Why the bot transfers, as `POST /v1/triggers/evaluate` answered: the metrics count transfers by category."""

    category: Category | None = None
    triggers: list[str] = []

    @classmethod
    def from_evaluation(cls, evaluation: Evaluation) -> TriggerInfo:
        return cls(category=evaluation.category, triggers=[hit.name for hit in evaluation.triggers])


def new_transfer_id() -> str:
    return f"xfer_{uuid.uuid4().hex}"


class StartTransfer(Sent):
    """The body of `POST /v1/transfers`.

    `transfer_id` is fixed when the request is made: from `context.transfer_id` when only that is given, else a new
    one. Sending the same request again (after a timeout, say) so returns the same transfer instead of a second one.
    """

    transfer_id: str
    context: ContextPackage
    routing: Routing = Routing()
    bot: BotInfo = BotInfo()
    trigger: TriggerInfo = TriggerInfo()

    @model_validator(mode="before")
    @classmethod
    def _fixed_transfer_id(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("transfer_id"):
            return data
        context = data.get("context")
        inner = context.get("transfer_id") if isinstance(context, dict) else getattr(context, "transfer_id", None)
        return {**data, "transfer_id": inner or new_transfer_id()}


class ProspectAction(Sent):
    action: ProspectActionName
    note: str | None = None
    callback_at: datetime | None = None
    phone: str | None = None
    email: str | None = None


class RepAction(Sent):
    action: RepActionName
    callback_at: datetime | None = None
    outcome: Outcome | None = None
    defer_to: str | None = None
    reason: str | None = None


class RepFeedback(Sent):
    """The rep's feedback once the transfer is completed (sent with the rep's key)."""

    source: Literal["rep"] = Field("rep", alias="from")
    context_helpful: bool
    missing: list[str] = []
    prospect_repeated: bool
    improve: str | None = None


class ProspectFeedback(Sent):
    """The prospect's satisfaction once the transfer is completed, 1 to 5 (sent with the bot's key)."""

    source: Literal["prospect"] = Field("prospect", alias="from")
    csat: int
    comment: str | None = None


Feedback = Annotated[RepFeedback | ProspectFeedback, Field(discriminator="source")]


# ---- the transfer as the API shows it -------------------------------------------------------------------------


class RepSummary(Received):
    id: str
    name: str
    title: str | None = None
    expertise: str | None = None
    locale: str = "en"


class QueueInfo(Received):
    position: int
    eta_seconds: int


class BotLine(Received):
    """A line for the bot to say to the prospect; `choices` are the prospect actions it offers."""

    seq: int
    kind: BotLineKind
    text: str
    locale: str
    choices: list[str] = []


class TimelineEntry(Received):
    at: datetime
    status: Status
    detail: str  # for people: its wording may change
    kind: str | None = None  # for programs: what happened ("left", "accepted", "feedback", ...)


class TransferView(Received):
    transfer_id: str
    status: Status
    branch: Branch | None = None
    rep: RepSummary | None = None
    queue: QueueInfo | None = None
    follow_up_at: datetime | None = None
    offer_expires_at: datetime | None = None
    outcome: str | None = None
    bot_lines: list[BotLine] = []
    timeline: list[TimelineEntry] = []
    collect: list[str] = []


class ErrorInfo(Received):
    code: str
    message: str
    details: Any = None


class ErrorBody(Received):
    error: ErrorInfo


# ---- events: the stream's and the webhooks' -------------------------------------------------------------------


class StatusChange(Received):
    """A `status` event: the transfer moved to `status`; `seq` is its place in the timeline."""

    seq: int
    status: Status
    detail: str
    rep: RepSummary | None = None
    queue: QueueInfo | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES


class Event(Received):
    """One event of a transfer, from its event stream or a webhook: `bot_line`, `status` or `csat_request`.

    `id` orders a transfer's events and names each one once: resume a stream after it, drop a repeated webhook."""

    id: int
    kind: str
    payload: dict[str, Any]
    transfer_id: str | None = None
    created_at: datetime | None = None

    @property
    def bot_line(self) -> BotLine | None:
        return BotLine.model_validate(self.payload) if self.kind == "bot_line" else None

    @property
    def status_change(self) -> StatusChange | None:
        return StatusChange.model_validate(self.payload) if self.kind == "status" else None
