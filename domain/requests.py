"""What a bot sends to start a transfer, and the actions that move it on."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, Field, StringConstraints, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from domain.context import ONE_LINE, PLAIN_TEXT, ContextPackage, Email, Note, Strict, usable_email
from domain.lifecycle import ProspectActionName, RepActionName

TransferId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")]
RepId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=40), ONE_LINE]
Locale = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Za-z]{2,4})?$")]
# The bot key acting (`api-key:<id>`), set by the API from the caller's key and never taken from the body (so not
# in the API's schema): a bot key acts only on transfers it started. None: a key not limited so (an admin's).
ActingKey = SkipJsonSchema[str | None]
# A follow-up is a promise to call or write back; one further out than this is a typo, not a plan.
CALLBACK_HORIZON = timedelta(days=365)


class Routing(Strict):
    team: Tag | None = None
    skills: Annotated[list[Tag], Field(max_length=20)] = []
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")] | None = None
    preferred_rep_id: RepId | None = None
    priority: Annotated[int, Field(ge=0, le=9)] = 0


class BotInfo(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), ONE_LINE] = "Assistant"
    locale: Locale = "en"
    callback_url: AnyHttpUrl | None = None


class TriggerInfo(Strict):
    """Why the bot transfers, as POST /v1/triggers/evaluate answered it: kept for metrics by category."""

    category: Literal["positive", "necessary", "rescue"] | None = None
    triggers: Annotated[list[Tag], Field(max_length=15)] = []


class TransferRequest(Strict):
    transfer_id: TransferId | None = None
    context: ContextPackage
    routing: Routing = Routing()
    bot: BotInfo = BotInfo()
    trigger: TriggerInfo = TriggerInfo()

    @model_validator(mode="after")
    def _one_transfer_id(self) -> TransferRequest:
        inner = self.context.transfer_id
        if self.transfer_id and inner and inner != self.transfer_id:
            raise ValueError("transfer_id and context.transfer_id differ")
        self.transfer_id = self.transfer_id or inner
        return self


Outcome = Literal["converted", "demo_booked", "nurture", "lost"]


class ProspectAction(Strict):
    action: ProspectActionName
    note: Annotated[Note, StringConstraints(strip_whitespace=True, min_length=1)] | None = None
    callback_at: datetime | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ().-]{5,40}$")] | None = None
    email: Email | None = None
    acting_key: ActingKey = None

    @field_validator("email")
    @classmethod
    def _email_usable(cls, email: str | None) -> str | None:
        if email is not None and not usable_email(email):
            raise ValueError("not an address mail can be sent to")
        return email

    @model_validator(mode="after")
    def _fields_for_action(self) -> ProspectAction:
        if self.action == "note" and not self.note:
            raise ValueError("a note action needs 'note'")
        if self.callback_at is not None and self.callback_at.tzinfo is None:
            raise ValueError("callback_at needs a time zone offset")
        return self


class RepAction(Strict):
    action: RepActionName
    rep_id: RepId | None = None  # set by the API from the caller's key, never trusted from the body
    callback_at: datetime | None = None
    outcome: Outcome | None = None
    defer_to: RepId | None = None
    reason: Annotated[str, StringConstraints(max_length=500), PLAIN_TEXT] | None = None
    # When the API received it, set there (never from the body): an answer sent before the offer expired counts even
    # if a worker restart or an outage delays it past the deadline.
    sent_at: SkipJsonSchema[datetime | None] = None

    @model_validator(mode="after")
    def _fields_for_action(self) -> RepAction:
        if self.action == "outcome" and self.outcome is None:
            raise ValueError("an outcome action needs 'outcome'")
        if self.action == "schedule_callback" and self.callback_at is None:
            raise ValueError("a schedule_callback action needs 'callback_at'")
        if self.callback_at is not None and self.callback_at.tzinfo is None:
            raise ValueError("callback_at needs a time zone offset")
        return self


class RepFeedback(Strict):
    """The seed's feedback loop, asked of the rep after the outcome."""

    source: Literal["rep"] = Field(alias="from")
    context_helpful: bool
    missing: Annotated[list[Tag], Field(max_length=20)] = []
    prospect_repeated: bool
    improve: Note | None = None
    rep_id: RepId | None = None  # set by the API from the caller's key


class ProspectFeedback(Strict):
    """Prospect satisfaction after the transfer (CSAT, 1 to 5)."""

    source: Literal["prospect"] = Field(alias="from")
    csat: Annotated[int, Field(ge=1, le=5)]
    comment: Note | None = None
    acting_key: ActingKey = None


Feedback = Annotated[RepFeedback | ProspectFeedback, Field(discriminator="source")]
