"""TransferWorkflow: one durable transfer from bot to rep, through every branch of the seed.

The workflow is a state machine: each `_phase_<status>` method does that state's work, waits for
the next input (a rep or prospect update, a seat handed over by another transfer, or a timer) and
returns the next status. Updates queue their action and return the view once the workflow has acted
on it and is waiting again, so a caller always sees the state its action led to.
"""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.models import (
        CrmNote,
        FeedbackRecord,
        Placed,
        PlaceInput,
        Plan,
        PlanInput,
        PublishInput,
        Released,
        ReleaseInput,
        Reserved,
        ReserveInput,
        TaskRequest,
    )
    from domain.context import ContextPackage
    from domain.enrichment import Enrichment
    from domain.eta import recheck_seconds
    from domain.notices import Notice
    from domain.records import TransferEvent, TransferFacts
    from domain.requests import ProspectAction, ProspectFeedback, RepAction, RepFeedback, Routing
    from domain.scripts import LineFacts, bot_line, rep_alert
    from domain.view import (
        BotLine,
        QueueInfo,
        RepSummary,
        TimelineEntry,
        TransferView,
    )
    from workflows import search
    from workflows.models import TransferInput, TransferResult
    from workflows.state import FollowUp, PendingInput

# What each side may do in each state; anything else is refused by the update validators.
PROSPECT_ACTIONS: dict[str, set[str]] = {
    "preparing": {"note", "proceed", "left"},
    "checking": {"note", "left"},
    "offered": {"note", "left"},
    "connecting": {"note", "replied", "left"},
    "connected": {"replied", "left"},
    "queued": {"note", "wait", "callback", "email", "left"},
    "after_hours": {"note", "callback", "email", "left"},
    "recovering": {"note", "callback", "email", "left"},
    "callback_scheduled": {"note", "left"},
    "email_follow_up": {"note", "left"},
    "async_follow_up": {"note", "left"},
}
REP_ACTIONS: dict[str, set[str]] = {
    "offered": {"accept", "decline", "defer", "schedule_callback"},
    "connecting": {"ack"},
    "connected": {"outcome"},
    "callback_scheduled": {"ack"},
    "email_follow_up": {"ack"},
    "async_follow_up": {"ack"},
}
RECHECK_BY_PLACE = "queue-recheck-by-place"  # workflow.patched id: deeper places recheck less often
RELEASE_IN_PUBLISH = "release-in-publish"  # workflow.patched id: a step that releases does it in its publish
# workflow.patched id: a transfer's first publish runs as an activity after the bot's first answer, not before it
OPENING_PUBLISH_AFTER_ANSWER = "opening-publish-after-answer"

FOLLOW_UP_STATUSES = {"callback_scheduled": "callback", "email_follow_up": "email", "async_follow_up": "async"}

_QUICK = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10))
_ALERT = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=2), maximum_attempts=4
)


@workflow.defn
class TransferWorkflow:
    @workflow.init
    def __init__(self, inp: TransferInput) -> None:
        self.inp = inp
        self.request = inp.request
        self.tid = inp.request.transfer_id or workflow.info().workflow_id
        self.ctx: ContextPackage = inp.request.context.model_copy(update={"transfer_id": self.tid}, deep=True)
        self.routing: Routing = inp.request.routing
        self.created_at = workflow.now()
        self.status = "requested"
        self.branch: str | None = None
        self.rep: RepSummary | None = None
        self.queue: QueueInfo | None = None
        self.follow_up: FollowUp | None = None
        self.offer_expires_at: datetime | None = None
        self.outcome: str | None = None
        self.bot_lines: list[BotLine] = []
        self.timeline: list[TimelineEntry] = []
        self.live = True  # the prospect is still in the chat, so the bot has lines to say
        self.continued = False
        self.exclude: list[str] = []
        self.feedback: dict[str, dict] = {}
        self.plan = Plan()
        self.enrichment: Enrichment | None = None
        self._inbox: deque[PendingInput] = deque()
        self._tickets = 0
        self._in_flight: list[int] = []
        self._answers: dict[int, str | None] = {}
        self._waits = 0
        self._events: list[TransferEvent] = []
        self._notices: list[Notice] = []
        self._tasks: list[TaskRequest] = []
        self._crm: list[CrmNote] = []
        self._feedback_out: list[FeedbackRecord] = []
        self._publishes = 0
        self._publishing: workflow.ActivityHandle[Released | None] | None = None  # the opening publish, running
        self._notice_count = 0
        self._indexed: dict = {}

    # ---- lifecycle --------------------------------------------------------------------------

    @workflow.run
    async def run(self, inp: TransferInput) -> TransferResult:
        phase: str | None = await self._start()
        while phase is not None:
            phase = await getattr(self, f"_phase_{phase}")()
        await self._published()
        self._settle()
        self._refuse_pending()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return TransferResult(view=self.view())

    async def _start(self) -> str:
        self.plan = await self._plan()
        self.rep = self.plan.best
        reason = self.ctx.transfer_reason or "no reason given"
        self._enter(
            "requested", f"{self.request.bot.name} asked for a rep: {reason}{self._who_can_help()}", kind="requested"
        )
        self._adopt(self.plan.enrichment)
        if self.plan.account is not None:
            self._log("crm", f"CRM account {self.plan.account.account_id} found by {self.plan.account.matched_by}")
        if self.rep is None:
            self._notify("ops", "no_rep", {"message": "No rep can take this transfer; it waits for one."})
            return "async_follow_up"
        return "preparing" if self.plan.on_shift else "after_hours"

    # ---- phases: each does its state's work and returns the next state ----------------------

    async def _plan(self) -> Plan:
        inp = PlanInput(
            now=workflow.now(),
            transfer_id=self.tid,
            routing=self.routing,
            context=self.ctx,
            locale=self.request.bot.locale,
        )
        return await self._local("plan", inp, Plan)

    def _adopt(self, enrichment: Enrichment | None) -> None:
        """The package, completed before any rep sees it; what was derived is logged with its source."""
        if enrichment is None:
            return
        self.enrichment = enrichment
        self.ctx = enrichment.context.model_copy(update={"transfer_id": self.tid})
        if enrichment.derived:
            filled = "; ".join(f"{d.field} from {d.source}" for d in enrichment.derived)
            self._log(
                "enriched",
                f"Completed the context package: {filled}",
                data={"derived": [d.model_dump(mode="json") for d in enrichment.derived]},
            )

    def _who_can_help(self) -> str:
        """The seed's internal check, for ops: the best rep and who else could take it."""
        if self.rep is None:
            return ""
        others = ", ".join(rep.name.split()[0] for rep in self.plan.alternatives)
        return f". Best placed: {self.rep.name}" + (f"; also able to help: {others}" if others else "")

    async def _phase_preparing(self) -> str:
        self._enter("preparing", f"Introducing {self.rep.name} to the prospect")
        self._say("prepare", ["note", "proceed"])
        await self._flush()
        deadline = workflow.now() + timedelta(seconds=self.inp.timings.prepare)
        item = await self._next(deadline, note_is_answer=True)
        if item is None:
            self._log("timeout", "The prospect added nothing in time; going ahead")
            return "checking"
        if item.payload.action == "left":
            return "cancelled"
        return "checking"  # a note was added on arrival; note or proceed, the transfer moves on

    async def _phase_checking(self) -> str:
        self._enter("checking", "Checking who can take it now")
        placed = await self._place()
        if placed.rep is not None:
            return "offered"
        if placed.placement.seats_on_shift == 0:
            await self._release()
            return "after_hours" if self.live else self._follow_up_later()
        self.queue = _queue_info(placed)
        return "queued"

    async def _phase_offered(self) -> str:
        first_offer = not any(e.status == "offered" for e in self.timeline)
        self.branch = self.branch or "immediate"
        self.queue = None
        self.offer_expires_at = workflow.now() + timedelta(seconds=self.inp.timings.offer)
        self._enter("offered", f"Offered to {self.rep.name}", kind="offered", rep_id=self.rep.id)
        self._alert_rep("offer" if self.live else "follow_up_due")
        if self.live:
            self._say("available" if first_offer else "rerouting")
        try:
            await self._flush(retry=_ALERT)
        except (ActivityError, ApplicationError) as err:  # a local activity's failure may come unwrapped
            return await self._fail(f"The alert to {self.rep.name} could not be delivered ({err.cause or err})")
        while True:
            item = await self._next(self.offer_expires_at)
            if item is None:
                self._log("offer_timeout", f"{self.rep.name} did not answer in time; set away", rep_id=self.rep.id)
                return await self._next_rep(mark_away=True)
            action = item.payload.action
            if item.source == "prospect" and action == "left":
                return "cancelled"
            if item.source != "rep":
                continue
            if action == "accept":
                return "connecting"
            if action == "decline":
                self._log(
                    "declined", f"{self.rep.name} declined: {item.payload.reason or 'no reason'}", rep_id=self.rep.id
                )
                return await self._next_rep()
            if action == "defer":
                return await self._defer(item.payload)
            if action == "schedule_callback":
                await self._release()
                self.follow_up = FollowUp(self.rep, item.payload.callback_at, "phone")
                return "callback_scheduled"

    async def _phase_connecting(self) -> str:
        self.offer_expires_at = None
        self._enter("connecting", f"{self.rep.name} accepted", kind="accepted", rep_id=self.rep.id)
        if self.live:
            self._say("connecting")
        await self._flush()
        deadline = workflow.now() + timedelta(seconds=self.inp.timings.ack)
        while True:
            item = await self._next(deadline)
            if item is None:
                if self.live:
                    return await self._fail(f"{self.rep.name} accepted but did not take over in time")
                self._log("ack_timeout", f"{self.rep.name} did not confirm the follow-up", rep_id=self.rep.id)
                return await self._next_rep(mark_away=True)
            if item.source == "rep":
                return "connected"
            if item.payload.action == "left":
                return "cancelled"
            if item.payload.action == "replied":
                self._mark_continued()

    async def _phase_connected(self) -> str:
        self.follow_up = None  # a follow-up, if this was one, has reached the prospect
        self._enter("connected", f"{self.rep.name} took over", kind="connected", rep_id=self.rep.id)
        await self._flush()
        while True:
            item = await self._next(None)
            if item.source == "rep":
                self.outcome = item.payload.outcome
                return "completed"
            if item.payload.action == "replied":
                self._mark_continued()
            elif item.payload.action == "left":
                self._log("left", "The prospect left the conversation")
            await self._flush()

    async def _phase_completed(self) -> None:
        releasing = await self._release_in_publish()
        self._enter("completed", f"Outcome: {self.outcome}", kind="outcome", data={"outcome": self.outcome})
        self._crm.append(
            CrmNote(
                key=f"{self.tid}:outcome",
                prospect=self.ctx.prospect,
                kind="transfer_outcome",
                text=f"Warm transfer {self.tid} handled by {self.rep.name}: {self.outcome}",
            )
        )
        self._notify(
            "rep",
            "feedback_request",
            {"questions": ["context_helpful", "missing", "prospect_repeated", "improve"]},
            rep_id=self.rep.id,
        )
        self._notify("bot", "csat_request", {"scale": [1, 5]})
        await self._flush(release=releasing)
        deadline = workflow.now() + timedelta(seconds=self.inp.timings.feedback_wait)
        while len(self.feedback) < 2:
            item = await self._next(deadline)
            if item is None:
                self._log("feedback_timeout", f"Closed with feedback from: {', '.join(self.feedback) or 'nobody'}")
                break
            data = item.payload.model_dump(mode="json", by_alias=True, exclude={"rep_id"})
            self.feedback[item.payload.source] = data
            self._feedback_out.append(FeedbackRecord(source=item.payload.source, rep_id=self.rep.id, data=data))
            self._log("feedback", f"Feedback from the {item.payload.source}", data=data)
            await self._flush()
        return None

    async def _phase_queued(self) -> str:
        self.branch = self.branch if self.branch not in (None, "immediate") else "queued"
        self._enter(
            "queued",
            f"In queue at position {self.queue.position}, about {_minutes(self.queue.eta_seconds)} min",
            data=self.queue.model_dump(),
        )
        if self.live:
            self._say("queued", ["wait", "callback", "email"])
        await self._flush()
        self.exclude = []  # exclusions steer the immediate choice; in the queue any rep may take it
        while True:
            recheck = workflow.now() + timedelta(seconds=self._recheck_seconds())
            item = await self._next(recheck, want_queue_news=True)
            if item is None or item.source == "queue":
                placed = await self._place()
                if placed.rep is not None:
                    return "offered"
                if placed.placement.position != self.queue.position:
                    self.queue = _queue_info(placed)
                    self._log("queue_moved", f"Now at position {self.queue.position}", data=self.queue.model_dump())
                    if self.live:
                        self._say("queue_update")
                    await self._flush()
                continue
            action = item.payload
            if action.action == "wait":
                self._log("chose_wait", "The prospect chose to wait")
                await self._flush()
            elif action.action in ("callback", "email"):
                await self._release()
                self.queue = None
                return self._choose_follow_up(action, self.rep, self._soonest_callback())
            elif action.action == "left":
                self.branch = "abandoned"
                return "abandoned"

    def _recheck_seconds(self) -> int:
        if not workflow.patched(RECHECK_BY_PLACE):  # transfers queued before it keep rechecking at the base rate
            return self.inp.timings.queue_recheck
        return recheck_seconds(self.inp.timings.queue_recheck, self.queue.position)

    async def _phase_after_hours(self) -> str:
        self.branch = "async"
        opening = self.plan.next_opening or workflow.now()
        self._enter("after_hours", f"Nobody is on shift; {self.rep.name} works again at {opening.isoformat()}")
        self._say("after_hours", ["email", "callback"], at=opening)
        await self._flush()
        await self._ask_follow_up(opening)
        return "async_follow_up"

    async def _phase_recovering(self) -> str:
        return await self._ask_follow_up(self._soonest_callback())

    async def _phase_callback_scheduled(self) -> str | None:
        return await self._follow_up_phase("callback_scheduled")

    async def _phase_email_follow_up(self) -> str | None:
        return await self._follow_up_phase("email_follow_up")

    async def _phase_async_follow_up(self) -> str | None:
        return await self._follow_up_phase("async_follow_up")

    async def _phase_cancelled(self) -> None:
        await self._close("cancelled", "The prospect left before a rep took over")

    async def _phase_abandoned(self) -> None:
        await self._close("abandoned", "The prospect left the queue")

    # ---- shared steps -------------------------------------------------------------------------

    async def _follow_up_phase(self, status: str) -> str | None:
        """Callback, e-mail and after-hours follow-ups: tell everyone, then a durable timer to the due time."""
        if self.follow_up is None:  # no rep could take it when it started: look again in an hour
            self.follow_up = FollowUp(None, workflow.now() + timedelta(hours=1), "email")
        follow_up = self.follow_up
        self.branch = self.branch if self.branch in ("failed", "async") else FOLLOW_UP_STATUSES[status]
        owner = follow_up.owner
        who = owner.name if owner else "the first free rep"
        self._enter(
            status,
            f"{who} follows up by {follow_up.channel} at {follow_up.due.isoformat()}",
            kind="follow_up",
            rep_id=owner.id if owner else None,
            data={"channel": follow_up.channel, "due": follow_up.due.isoformat()},
        )
        if owner is not None:
            self._alert_rep("follow_up_scheduled", rep=owner)
            self._tasks.append(
                TaskRequest(
                    key=f"{self.tid}:task:{len(self.timeline)}",
                    rep_id=owner.id,
                    due_at=follow_up.due,
                    title=f"Follow up: {self._prospect_label()}",
                    description=self._task_description(follow_up),
                )
            )
        if self.ctx.prospect.email:
            self._notify("prospect", "confirmation", self._confirmation(follow_up), email_to=self.ctx.prospect.email)
        if self.live:
            kind = {"callback_scheduled": "callback_confirmed", "email_follow_up": "email_confirmed"}
            self._say(kind.get(status, "async_confirmed"), at=follow_up.due)
        self.live = False
        await self._flush()
        while True:
            item = await self._next(follow_up.due)
            if item is None:
                break
            if item.source == "rep":  # the owner reached the prospect before the due time
                self.rep = owner
                return "connected"
            self._log("left", "The prospect left the chat; the follow-up stands")
            await self._flush()
        if owner is None:
            self.follow_up = None  # nobody owned it: look for a rep again, with a new due time
            self.plan = await self._plan()
            if self.plan.best is None:
                return status
        self.routing = self.routing.model_copy(update={"preferred_rep_id": (owner or self.plan.best).id})
        self.exclude = []
        return "checking"

    async def _fail(self, reason: str) -> str:
        """Failed transfer recovery: apologise, log, alert the rep, and collect a callback."""
        releasing = await self._release_in_publish()
        self.branch = "failed"
        self.offer_expires_at = None
        self._enter("recovering", reason, kind="failure", rep_id=self.rep.id if self.rep else None)
        self._crm.append(
            CrmNote(
                key=f"{self.tid}:failure:{len(self.timeline)}",
                prospect=self.ctx.prospect,
                kind="transfer_failed",
                text=reason,
            )
        )
        self._notify("ops", "transfer_failed", {"reason": reason})
        self._alert_rep("recovery", rep=self.rep)
        if self.live:
            self._say("failed", ["callback", "email"])
        await self._flush(release=releasing)
        return "recovering"

    async def _ask_follow_up(self, default_due: datetime) -> str:
        """The prospect picks callback or e-mail; if they say nothing or leave, use what we know of them."""
        item = await self._next(workflow.now() + timedelta(seconds=self.inp.timings.choice)) if self.live else None
        if item is None or item.payload.action == "left":
            channel = "phone" if self.ctx.prospect.phone else "email"
            self.follow_up = FollowUp(self.rep, default_due, channel)
            return "callback_scheduled" if channel == "phone" else "email_follow_up"
        return self._choose_follow_up(item.payload, self.rep, default_due)

    def _choose_follow_up(self, action: ProspectAction, owner: RepSummary | None, default_due: datetime) -> str:
        if action.phone:
            self.ctx.prospect.phone = action.phone
        if action.email:
            self.ctx.prospect.email = action.email
        if action.action == "email":
            self.follow_up = FollowUp(owner, default_due, "email")
            return "email_follow_up"
        due = action.callback_at if action.callback_at and action.callback_at > workflow.now() else default_due
        self.follow_up = FollowUp(owner, due, "phone")
        return "callback_scheduled"

    def _follow_up_later(self) -> str:
        """A follow-up found nobody on shift: wait for the owner's next opening."""
        self.follow_up = FollowUp(
            self.rep,
            self.plan.next_opening or workflow.now() + timedelta(hours=1),
            "phone" if self.ctx.prospect.phone else "email",
        )
        return "async_follow_up"

    def _soonest_callback(self) -> datetime:
        return workflow.now() + timedelta(minutes=self.inp.timings.recovery_minutes)

    async def _next_rep(self, mark_away: bool = False) -> str:
        self.exclude = [*self.exclude, self.rep.id]
        await self._release(mark_away=self.rep.id if mark_away else None)
        return "checking"

    async def _defer(self, action: RepAction) -> str:
        self._log("deferred", f"{self.rep.name} deferred to {action.defer_to or 'a colleague'}", rep_id=self.rep.id)
        self.exclude = [*self.exclude, self.rep.id]
        await self._release()
        if action.defer_to:
            reserved = await self._local(
                "reserve", ReserveInput(now=workflow.now(), transfer_id=self.tid, rep_id=action.defer_to), Reserved
            )
            if reserved.ok:
                self.rep = reserved.rep
                return "offered"
            self._log("defer_failed", f"{action.defer_to} cannot take it now; finding the next best rep")
        return "checking"

    async def _release_in_publish(self) -> bool:
        """For a step that releases and then publishes: True if its publish is to release too; otherwise (a
        transfer that reached this step on older code) the release runs now, on its own."""
        if workflow.patched(RELEASE_IN_PUBLISH):
            return True
        await self._release()
        return False

    async def _release(self, mark_away: str | None = None) -> None:
        released = await self._local(
            "release", ReleaseInput(now=workflow.now(), transfer_id=self.tid, mark_away=mark_away), Released
        )
        await self._wake(released.to_wake)

    async def _place(self) -> Placed:
        """Seat or queue place (idempotent); wakes any transfer this decision handed a seat to."""
        placed = await self._local(
            "place",
            PlaceInput(now=workflow.now(), transfer_id=self.tid, routing=self.routing, exclude=self.exclude),
            Placed,
        )
        await self._wake(placed.placement.to_wake(besides=self.tid))
        if placed.rep is not None:
            self.rep = placed.rep
        return placed

    async def _wake(self, transfer_ids: list[str]) -> None:
        """Tell transfers this decision seated or moved; sent together, in one workflow task."""
        handles = [workflow.get_external_workflow_handle(t) for t in transfer_ids]
        outcomes = await asyncio.gather(
            *(h.signal(TransferWorkflow.queue_changed) for h in handles), return_exceptions=True
        )
        for transfer_id, outcome in zip(transfer_ids, outcomes, strict=True):
            if isinstance(outcome, Exception):  # it closed meanwhile; nothing is waiting for the news
                workflow.logger.info("transfer %s ended before the queue news reached it", transfer_id)

    async def _close(self, status: str, detail: str) -> None:
        releasing = await self._release_in_publish()
        self.branch = "abandoned" if status == "abandoned" else (self.branch or "cancelled")
        self.offer_expires_at = None
        self._enter(status, detail, kind=status)
        if self.rep is not None:
            self._notify("rep", "withdrawn", {"reason": detail}, rep_id=self.rep.id)
        await self._flush(release=releasing)

    def _mark_continued(self) -> None:
        if not self.continued:
            self.continued = True
            self._log("continuation", "The prospect replied to the rep")

    # ---- what the workflow says and records ----------------------------------------------------

    def _enter(
        self, status: str, detail: str, kind: str | None = None, rep_id: str | None = None, data: dict | None = None
    ) -> None:
        self.status = status
        self._log(kind or status, detail, rep_id=rep_id, data=data)
        workflow.set_current_details(f"{status}: {detail}")
        self._notify(
            "bot",
            "status",
            {
                "status": status,
                "detail": detail,
                "rep": self.rep.model_dump() if self.rep else None,
                "queue": self.queue.model_dump() if self.queue else None,
            },
        )

    def _log(self, kind: str, detail: str, rep_id: str | None = None, data: dict | None = None) -> None:
        at = workflow.now()
        self.timeline.append(TimelineEntry(at=at, status=self.status, detail=detail))
        self._events.append(
            TransferEvent(
                seq=len(self.timeline),
                at=at,
                status=self.status,
                kind=kind,
                rep_id=rep_id,
                detail=detail[:2000],
                data=data or {},
            )
        )

    def _say(self, kind: str, choices: list[str] | None = None, at: datetime | None = None) -> None:
        facts = LineFacts(
            rep_name=self.rep.name if self.rep else None,
            rep_title=self.rep.title if self.rep else None,
            rep_expertise=self.rep.expertise if self.rep else None,
            team=self.routing.team,
            prospect_name=self.ctx.prospect.name,
            bot_name=self.request.bot.name,
            position=self.queue.position if self.queue else None,
            wait_seconds=self.queue.eta_seconds if self.queue else None,
            at=at,
            prospect_timezone=self.ctx.prospect.timezone,
            phone=self.ctx.prospect.phone,
            email=self.ctx.prospect.email,
            recovery_minutes=self.inp.timings.recovery_minutes,
            now=workflow.now(),
        )
        locale = self.request.bot.locale
        line = BotLine(
            seq=len(self.bot_lines) + 1,
            kind=kind,
            text=bot_line(kind, locale, facts),
            locale=locale,
            choices=choices or [],
        )
        self.bot_lines.append(line)
        self._notify("bot", "bot_line", line.model_dump(mode="json"), key=f"line-{line.seq}")

    def _alert_rep(self, kind: str, rep: RepSummary | None = None) -> None:
        rep = rep or self.rep
        alert = rep_alert(self.ctx, rep.locale, self.ctx.transfer_reason)
        self._notify(
            "rep",
            kind,
            {
                "alert": alert.model_dump(mode="json"),
                "context": self.ctx.model_dump(mode="json"),
                "account": self.plan.account.model_dump(mode="json") if self.plan.account else None,
                "enrichment": self.enrichment.model_dump(mode="json", exclude={"context"}) if self.enrichment else None,
                "expires_at": self.offer_expires_at.isoformat() if self.offer_expires_at else None,
                "follow_up": self._follow_up_payload(),
            },
            rep_id=rep.id,
        )

    def _notify(
        self,
        audience: str,
        kind: str,
        payload: dict,
        rep_id: str | None = None,
        email_to: str | None = None,
        key: str | None = None,
    ) -> None:
        self._notice_count += 1
        callback = str(self.request.bot.callback_url) if audience == "bot" and self.request.bot.callback_url else None
        self._notices.append(
            Notice(
                key=key or f"n-{self._notice_count}",
                transfer_id=self.tid,
                audience=audience,
                rep_id=rep_id,
                kind=kind,
                payload={"transfer_id": self.tid, **payload},
                callback_url=callback,
                email_to=email_to,
            )
        )

    def _follow_up_payload(self) -> dict | None:
        if self.follow_up is None:
            return None
        return {
            "channel": self.follow_up.channel,
            "due": self.follow_up.due.isoformat(),
            "phone": self.ctx.prospect.phone,
            "email": self.ctx.prospect.email,
        }

    def _confirmation(self, follow_up: FollowUp) -> dict:
        who = follow_up.owner.name if follow_up.owner else "our team"
        by = "call you" if follow_up.channel == "phone" else "e-mail you"
        return {
            "subject": "We have everything we discussed",
            "body": f"Hi {self.ctx.prospect.name or 'there'},\n\n{who} will {by} at "
            f"{follow_up.due.strftime('%Y-%m-%d %H:%M UTC')} with the full context of your conversation, "
            f"so you will not need to repeat anything.\n",
        }

    def _task_description(self, follow_up: FollowUp) -> str:
        contact = self.ctx.prospect.phone if follow_up.channel == "phone" else self.ctx.prospect.email
        alert = rep_alert(self.ctx, follow_up.owner.locale, self.ctx.transfer_reason)
        return "\n".join(
            [
                f"{follow_up.channel} follow-up: {contact or 'contact details in the transfer'}",
                alert.one_liner,
                *alert.lines,
                f"Transfer: {self.tid}",
            ]
        )

    def _prospect_label(self) -> str:
        p = self.ctx.prospect
        return " @ ".join(x for x in (p.name, p.company) if x) or self.tid

    async def _flush(self, retry: RetryPolicy = _QUICK, release: bool = False) -> None:
        """Publish everything this step produced in one activity (releasing the transfer's place first, if asked),
        then wake whoever the release moved, and index the new state for ops.

        The first publish does not hold up the bot's first answer: it runs as an activity, started with the
        answer and usually on this worker at once, and every later publish waits for it, so steps still
        publish in order. The others are local activities that finish before their step's answer."""
        await self._published()
        if release or self._events or self._notices or self._tasks or self._crm or self._feedback_out:
            batch = PublishInput(
                now=workflow.now(),
                facts=self._facts(),
                events=self._events,
                notices=self._notices,
                tasks=self._tasks,
                crm_notes=self._crm,
                feedback=self._feedback_out,
                release=ReleaseInput(now=workflow.now(), transfer_id=self.tid) if release else None,
            )
            self._events, self._notices, self._tasks, self._crm, self._feedback_out = [], [], [], [], []
            self._publishes += 1
            if self._publishes == 1 and not release and workflow.patched(OPENING_PUBLISH_AFTER_ANSWER):
                self._publishing = workflow.start_activity(
                    "publish", batch, result_type=Released, start_to_close_timeout=timedelta(seconds=10),
                    retry_policy=retry)
            else:
                released = await self._local("publish", batch, Released, retry=retry)
                if released is not None:
                    await self._wake(released.to_wake)
        self._index()

    async def _published(self) -> None:
        """Wait for the opening publish, if it is still running."""
        if self._publishing is not None:
            await self._publishing  # it never releases, so there is no one to wake
            self._publishing = None

    def _facts(self) -> TransferFacts:
        p = self.ctx.prospect
        return TransferFacts(
            transfer_id=self.tid,
            status=self.status,
            branch=self.branch,
            team=self.routing.team,
            rep_id=self.rep.id if self.rep else None,
            score=self.ctx.qualification.score,
            outcome=self.outcome,
            created_at=self.created_at,
            summary={
                "prospect": p.name,
                "company": p.company,
                "reason": self.ctx.transfer_reason,
                "locale": self.request.bot.locale,
                "bot": self.request.bot.name,
                "continued": self.continued,
                "category": self.request.trigger.category,
                "triggers": self.request.trigger.triggers,
            },
        )

    def _index(self) -> None:
        if not self.inp.search_attributes:
            return
        wanted = {
            search.STATUS: self.status,
            search.BRANCH: self.branch or "",
            search.TEAM: self.routing.team or "",
            search.REP: self.rep.id if self.rep else "",
            search.SCORE: self.ctx.qualification.score or 0,
        }
        changed = [key.value_set(value) for key, value in wanted.items() if self._indexed.get(key.name) != value]
        if changed:
            workflow.upsert_search_attributes(changed)
            self._indexed.update({key.name: value for key, value in wanted.items()})

    async def _local(self, name: str, arg: Any, result_type: type | None, retry: RetryPolicy = _QUICK) -> Any:
        return await workflow.execute_local_activity(
            name, arg, result_type=result_type, start_to_close_timeout=timedelta(seconds=10), retry_policy=retry
        )

    # ---- inputs -----------------------------------------------------------------------------------

    async def _next(
        self, deadline: datetime | None, note_is_answer: bool = False, want_queue_news: bool = False
    ) -> PendingInput | None:
        """Settle the actions acted on so far, then wait for the next input (None: the deadline passed).

        A note is added to the context wherever it comes, and is only returned where it answers the
        bot's question; news of the queue (a seat, a new place) is only of use while queued.
        """
        while True:
            self._settle()
            timeout = None if deadline is None else (deadline - workflow.now()).total_seconds()
            if timeout is not None and timeout <= 0:
                return None
            try:
                await workflow.wait_condition(lambda: bool(self._inbox), timeout=timeout)
            except TimeoutError:
                return None
            item = self._inbox.popleft()
            if not self._still_valid(item):
                continue
            self._in_flight.append(item.ticket)
            if item.source == "queue" and not want_queue_news:
                continue
            if item.source == "prospect" and item.payload.action == "note":
                self._add_note(item.payload.note)
                if not note_is_answer:
                    await self._flush()
                    continue
            return item

    def _still_valid(self, item: PendingInput) -> bool:
        """Validators ran when the action arrived; check again now, since an earlier input or a timer
        may have moved the transfer on (the prospect left, the offer lapsed). A stale action is refused."""
        check = {"prospect": self._check_prospect, "rep": self._check_rep, "feedback": self._check_feedback}
        try:
            if item.source in check:
                check[item.source](item.payload)
        except ValueError as refusal:
            self._answers[item.ticket] = str(refusal)
            return False
        return True

    def _refuse_pending(self) -> None:
        """The transfer has closed: answer every action still waiting, so no caller waits forever."""
        while self._inbox:
            item = self._inbox.popleft()
            self._answers[item.ticket] = f"the transfer is {self.status}; it takes no more actions"

    def _settle(self) -> None:
        self._waits += 1
        for ticket in self._in_flight:
            self._answers.setdefault(ticket, None)
        self._in_flight = []

    def _add_note(self, note: str) -> None:
        self.ctx.prospect_notes.append(note)
        self._log("note", f"The prospect added: {note}")
        if self.rep is not None and self.status in ("offered", "connecting", "connected"):
            self._notify("rep", "note", {"note": note}, rep_id=self.rep.id)

    async def _submit(self, source: str, payload: Any) -> TransferView:
        self._tickets += 1
        ticket = self._tickets
        self._inbox.append(PendingInput(ticket, source, payload))
        await workflow.wait_condition(lambda: ticket in self._answers)
        error = self._answers.pop(ticket)
        if error:
            raise ApplicationError(error, type="Rejected", non_retryable=True)
        return self.view()

    @workflow.update
    async def ready(self) -> TransferView:
        """The first answer for the bot: the view once the opening line is ready."""
        await workflow.wait_condition(lambda: self._waits > 0)
        return self.view()

    @workflow.update
    async def prospect(self, action: ProspectAction) -> TransferView:
        return await self._submit("prospect", action)

    @prospect.validator
    def _check_prospect(self, action: ProspectAction) -> None:
        self._check_allowed(PROSPECT_ACTIONS, action.action)

    @workflow.update
    async def rep_action(self, action: RepAction) -> TransferView:
        return await self._submit("rep", action)

    @rep_action.validator
    def _check_rep(self, action: RepAction) -> None:
        self._check_allowed(REP_ACTIONS, action.action)
        owner = self.follow_up.owner if self.status in FOLLOW_UP_STATUSES and self.follow_up else self.rep
        if owner is None or action.rep_id != owner.id:
            raise ValueError("this transfer is not yours to act on")
        if self.status == "offered" and self.offer_expires_at and workflow.now() >= self.offer_expires_at:
            raise ValueError("the offer has expired")
        if action.action == "defer" and action.defer_to == action.rep_id:
            raise ValueError("defer to a colleague, not to yourself")
        if action.action == "schedule_callback" and action.callback_at <= workflow.now():
            raise ValueError("callback_at must be in the future")

    def _check_allowed(self, table: dict[str, set[str]], action: str) -> None:
        allowed = table.get(self.status, set())
        if action not in allowed:
            possible = f" (possible: {', '.join(sorted(allowed))})" if allowed else ""
            raise ValueError(f"'{action}' is not possible while the transfer is {self.status}{possible}")

    @workflow.update
    async def give_feedback(self, feedback: RepFeedback | ProspectFeedback) -> TransferView:
        return await self._submit("feedback", feedback)

    @give_feedback.validator
    def _check_feedback(self, feedback: RepFeedback | ProspectFeedback) -> None:
        if self.status != "completed":
            raise ValueError(f"feedback is asked for once the transfer is completed; it is {self.status}")
        if feedback.source in self.feedback or any(
            i.source == "feedback" and i.payload.source == feedback.source for i in self._inbox
        ):
            raise ValueError(f"feedback from the {feedback.source} was already given")
        if feedback.source == "rep" and (self.rep is None or feedback.rep_id != self.rep.id):
            raise ValueError("only the rep who handled the transfer can give rep feedback")

    @workflow.signal
    def queue_changed(self) -> None:
        """Another decision gave this transfer a seat or moved its place in the queue: look again now."""
        self._tickets += 1
        self._inbox.append(PendingInput(self._tickets, "queue", None))

    @workflow.query
    def view(self) -> TransferView:
        return TransferView(
            transfer_id=self.tid,
            status=self.status,
            branch=self.branch,
            rep=self.rep,
            queue=self.queue,
            follow_up_at=self.follow_up.due if self.follow_up else None,
            offer_expires_at=self.offer_expires_at,
            outcome=self.outcome,
            bot_lines=self.bot_lines,
            timeline=self.timeline,
            collect=self.enrichment.missing if self.enrichment else [],
        )

    @workflow.query
    def request_digest(self) -> str:
        return self.inp.request_digest

    @workflow.query
    def context(self) -> ContextPackage:
        return self.ctx


def _queue_info(placed: Placed) -> QueueInfo:
    return QueueInfo(position=placed.placement.position, eta_seconds=placed.eta_seconds or 0)


def _minutes(seconds: int) -> int:
    return max(1, round(seconds / 60))
