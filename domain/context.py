"""The context package of the seed, field for field: what the rep receives so the prospect never repeats."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
LongText = Annotated[str, StringConstraints(max_length=200_000)]
TextList = Annotated[list[ShortText], Field(max_length=50)]
PROSPECT_NOTES_MAX = 20  # what the prospect adds while waiting; a rep reads them all in the brief


def usable_email(address: str | None) -> bool:
    """Whether mail can be sent to this address, by its syntax (no DNS lookup). The context package keeps what the
    bot passed either way, so the rep sees a mistyped address; nothing is sent to it."""
    if not address:
        return False
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


class Strict(BaseModel):
    """Unknown fields are refused so a typo in a bot integration surfaces as a 422, not silent loss. A validation
    error's text leaves the values out: it may reach a log, and they are the prospect's."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class Prospect(Strict):
    name: ShortText | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    company: ShortText | None = None
    title: ShortText | None = None
    account_id: Annotated[str, StringConstraints(max_length=100)] | None = None
    timezone: Annotated[str, StringConstraints(max_length=64)] | None = None


class Conversation(Strict):
    channel: Annotated[str, StringConstraints(max_length=40)] | None = None
    duration_minutes: Annotated[float, Field(ge=0, le=100_000)] | None = None
    messages_exchanged: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    started_at: datetime | None = None


class Summary(Strict):
    entry_point: ShortText | None = None
    initial_question: ShortText | None = None
    key_needs: TextList = []
    pain_points: TextList = []
    objections_raised: TextList = []
    objections_addressed: bool | None = None


class Qualification(Strict):
    company_size: ShortText | None = None
    use_case: ShortText | None = None
    timeline: ShortText | None = None
    budget: ShortText | None = None
    decision_maker: bool | None = None
    score: Annotated[int, Field(ge=0, le=100)] | None = None


class Sentiment(Strict):
    overall: Literal["positive", "neutral", "negative", "mixed"] | None = None
    frustration_level: Literal["none", "low", "medium", "high"] | None = None
    buying_intent: Literal["low", "medium", "high"] | None = None
    notes: ShortText | None = None


class ContextPackage(Strict):
    transfer_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")] | None = None
    timestamp: datetime | None = None
    prospect: Prospect = Prospect()
    conversation: Conversation = Conversation()
    summary: Summary = Summary()
    qualification: Qualification = Qualification()
    sentiment: Sentiment = Sentiment()
    transfer_reason: ShortText | None = None
    recommended_approach: Annotated[str, StringConstraints(max_length=2000)] | None = None
    conversation_transcript: LongText | None = None
    # What the prospect added when the bot asked "anything else I should let them know?".
    prospect_notes: Annotated[list[Annotated[str, StringConstraints(max_length=2000)]],
                              Field(max_length=PROSPECT_NOTES_MAX)] = []
