"""The context package of the seed, field for field: what the rep receives so the prospect never repeats."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

# Control characters (NUL, escape, backspace, ...) mean nothing to a reader and break what text is written into:
# e-mail, chat, CSV, terminals; they are refused. Tab and line breaks are text. A single line (a name) has its line
# breaks joined into a space rather than refused: a bot may well pass "Acme Corp\nLondon", and a transfer already
# running or a rep already stored with one must still load.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"\s*[\n\r\u2028\u2029]+\s*")


def _text(text: str) -> str:
    if found := _CONTROL.search(text):
        raise ValueError(f"must not contain control characters (found U+{ord(found.group()):04X})")
    return text


def _line(text: str) -> str:
    return _LINE_BREAKS.sub(" ", _text(text))


# After a type's StringConstraints, so surrounding whitespace (a trailing newline) is stripped before the check.
PLAIN_TEXT = AfterValidator(_text)  # free text, which may span lines: notes, reasons, comments, transcripts
ONE_LINE = AfterValidator(_line)  # a name, a title, an address, an id

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), PLAIN_TEXT]
ShortLine = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), ONE_LINE]
LongText = Annotated[str, StringConstraints(max_length=200_000), PLAIN_TEXT]
Note = Annotated[str, StringConstraints(max_length=2000), PLAIN_TEXT]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254), ONE_LINE]  # as given; see usable_email
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
    name: ShortLine | None = None
    email: Email | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40), ONE_LINE] | None = None
    company: ShortLine | None = None
    title: ShortLine | None = None
    account_id: Annotated[str, StringConstraints(max_length=100), ONE_LINE] | None = None
    timezone: Annotated[str, StringConstraints(max_length=64), ONE_LINE] | None = None


class Conversation(Strict):
    channel: Annotated[str, StringConstraints(max_length=40), ONE_LINE] | None = None
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
    recommended_approach: Note | None = None
    conversation_transcript: LongText | None = None
    # What the prospect added when the bot asked "anything else I should let them know?".
    prospect_notes: Annotated[list[Note], Field(max_length=PROSPECT_NOTES_MAX)] = []
