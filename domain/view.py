"""The transfer as bots, reps and ops see it: the API's response shape and the workflow's query result."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, field_serializer

from domain.context import ContextPackage
from domain.lifecycle import Branch, Status

BotLineKind = Literal[
    "prepare", "available", "queued", "queue_update", "callback_offered", "callback_confirmed",
    "email_confirmed", "after_hours", "async_confirmed", "connecting", "rerouting", "failed",
    "connected", "closing",
]


class RepSummary(BaseModel):
    id: str
    name: str
    title: str | None = None
    expertise: str | None = None
    locale: str = "en"  # the language of what is written for this rep (alerts, follow-up tasks)


class QueueInfo(BaseModel):
    position: int
    eta_seconds: int


class BotLine(BaseModel):
    seq: int
    kind: BotLineKind
    text: str
    locale: str
    choices: list[str] = []


class TimelineEntry(BaseModel):
    at: datetime
    status: Status
    detail: str  # for people (ops, the rep): its wording may change
    kind: str | None = None  # for programs: what happened ("left", "accepted", "feedback", ...)


class TransferView(BaseModel):
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
    collect: list[str] = []  # essentials of the context package still unknown: ask when timing allows

    @field_serializer("follow_up_at")
    def _in_utc(self, at: datetime | None) -> datetime | None:
        """In UTC, as every other time the API gives: a callback time keeps the offset it was asked in."""
        return at.astimezone(UTC) if at else None


class BriefFacts(BaseModel):
    """What the rep console's brief is written from, beside the view: the package and the bot's name."""

    context: ContextPackage
    bot_name: str | None = None
    prospect_locale: str | None = None  # the language the bot speaks with the prospect: the rep's opener is in it
    approach_derived: bool = False  # the package's recommended approach is ours, made of the brief's own parts
