"""One input and one output model per activity; the workflow and the activities share only these."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from domain.accounts import AccountProfile
from domain.context import ContextPackage, Prospect
from domain.enrichment import Enrichment
from domain.lifecycle import FollowUpKind
from domain.notices import Notice
from domain.placement import Placement
from domain.records import TransferEvent, TransferFacts
from domain.requests import Routing
from domain.view import RepSummary
from domain.watchdog import StuckTransfer


class PlanInput(BaseModel):
    now: datetime  # the workflow's clock, so decisions agree with its timers
    transfer_id: str
    routing: Routing
    context: ContextPackage
    locale: str = "en"


class Plan(BaseModel):
    """Step 1 and 2 of the seed: who is best, is anyone on shift, who else could take it."""

    best: RepSummary | None = None
    alternatives: list[RepSummary] = []
    on_shift: bool = False
    next_opening: datetime | None = None  # when the best rep next works, if nobody is on shift
    best_timezone: str | None = None
    account: AccountProfile | None = None
    enrichment: Enrichment | None = None  # the package completed from the CRM, the transcript and rules
    crm_unavailable: str | None = None  # why the CRM could not be read, when it could not: the plan goes on without it
    # The rep who owns the prospect's account in the CRM, preferred when the bot named no rep.
    account_owner: RepSummary | None = None


class PlaceInput(BaseModel):
    now: datetime  # the workflow's clock, so decisions agree with its timers
    transfer_id: str
    routing: Routing
    exclude: list[str] = []


class ReleaseInput(BaseModel):
    now: datetime  # the workflow's clock, so decisions agree with its timers
    transfer_id: str
    mark_away: str | None = None  # a rep who let an offer expire is set away until they return


class ReserveInput(BaseModel):
    now: datetime  # the workflow's clock, so decisions agree with its timers
    transfer_id: str
    rep_id: str
    routing: Routing | None = None  # the rep must meet its team and language, as any rep offered it


class Reserved(BaseModel):
    ok: bool
    rep: RepSummary | None = None


class Placed(BaseModel):
    placement: Placement
    rep: RepSummary | None = None
    eta_seconds: int | None = None


class TaskRequest(BaseModel):
    """A follow-up on its owner's calendar: put there, or moved if `key` is there already."""

    key: str
    rep_id: str
    kind: FollowUpKind = "callback"  # requests from before kinds were kept: every task was shown as an event
    due_at: datetime
    title: str
    description: str


class TaskClose(BaseModel):
    key: str
    cancelled: bool  # called off, rather than carried out


class CrmNote(BaseModel):
    key: str
    prospect: Prospect
    kind: str
    text: str


class FeedbackRecord(BaseModel):
    source: str
    rep_id: str | None = None
    data: dict


class PublishInput(BaseModel):
    """Everything one workflow step makes known, in one activity: events, messages, tasks and their closing, CRM
    notes."""

    now: datetime  # the workflow's clock, so decisions agree with its timers

    facts: TransferFacts
    events: list[TransferEvent] = []
    notices: list[Notice] = []
    tasks: list[TaskRequest] = []
    task_closes: list[TaskClose] = []
    crm_notes: list[CrmNote] = []
    feedback: list[FeedbackRecord] = []
    # A step that gives up the transfer's seat or queue place does it here, first, rather than in a local
    # activity of its own: each local activity costs a workflow about 2.5 ms, whatever it does.
    release: ReleaseInput | None = None


class Released(BaseModel):
    to_wake: list[str] = []  # transfers given a seat or moved in the queue by this release


class Look(BaseModel):
    """One look of the watchdog: what is stuck as of `now`, the watchdog's clock."""

    now: datetime


class Found(BaseModel):
    stuck: list[StuckTransfer] = []
    unchecked: str | None = None  # why this look could not be made: its kind of problem went unchecked


class OpsAlertRequest(BaseModel):
    now: datetime
    stuck: list[StuckTransfer]


class Alerted(BaseModel):
    transfer_ids: list[str] = []  # those ops were told of now; the others they heard of within the reminder's time


class DigestRequest(BaseModel):
    at: datetime  # when the digest was due: it reports the day before, in the digest's time zone


class DigestSent(BaseModel):
    recipients: int  # the managers it was sent to
