"""TransferWorkflow: one durable transfer from bot to rep, through every branch of the seed.

`run` is the seed's flow: prepare, check, offer, connect, confirm, close; or queue, after hours, recovery and
follow-ups. Each phase does its state's work, waits for what comes next (a rep or prospect action, a seat
handed over by another transfer, or a timer) and returns the next state, along the moves `domain.lifecycle`
allows. Actions arrive as updates: each waits in the inbox until the workflow has acted on it and waits again,
so a caller always sees the state its action led to. What a step makes known is published once, at its end.
"""

from __future__ import annotations

import asyncio
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
        Released,
        ReleaseInput,
        ReserveInput,
        TaskRequest,
    )
    from activities.publish import PublishActivities
    from activities.routing import RoutingActivities
    from domain.context import ContextPackage
    from domain.enrichment import Enrichment
    from domain.eta import recheck_seconds
    from domain.lifecycle import (
        PROSPECT_ACTIONS,
        REP_ACTIONS,
        ActionRefused,
        Branch,
        IllegalTransition,
        Status,
        branch_on_entering,
        check_action,
        check_transition,
        follow_up_owner_acts,
    )
    from domain.notices import Audience
    from domain.records import TransferFacts
    from domain.requests import ProspectAction, ProspectFeedback, RepAction, RepFeedback, Routing
    from domain.scripts import LineFacts, bot_line, rep_alert
    from domain.scripts.follow_up import confirmation, prospect_label, task_description
    from domain.view import BotLine, QueueInfo, RepSummary, TransferView
    from workflows import search
    from workflows.inbox import Inbox, PendingInput, Source
    from workflows.models import TransferInput, TransferResult
    from workflows.state import FollowUp
    from workflows.steps import StepRecord

# workflow.patched ids, one per change that altered what running transfers do
RECHECK_BY_PLACE = "queue-recheck-by-place"  # deeper places in the queue recheck less often
RELEASE_IN_PUBLISH = "release-in-publish"  # a step that releases its place does it in its publish
OPENING_PUBLISH_AFTER_ANSWER = "opening-publish-after-answer"  # the first publish runs after the first answer

_CONFIRMED_LINE = {Status.CALLBACK_SCHEDULED: "callback_confirmed", Status.EMAIL_FOLLOW_UP: "email_confirmed"}
_QUICK = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10))
_ALERT = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=2), maximum_attempts=4
)
_ACTIVITY_TIMEOUT = timedelta(seconds=10)


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
        self.status = Status.REQUESTED
        self.branch: Branch | None = None
        self.rep: RepSummary | None = None
        self.queue: QueueInfo | None = None
        self.follow_up: FollowUp | None = None
        self.offer_expires_at: datetime | None = None
        self.outcome: str | None = None
        self.failure: str | None = None  # why the transfer is recovering
        self.bot_lines: list[BotLine] = []
        self.live = True  # the prospect is still in the chat, so the bot has lines to say
        self.continued = False
        self.exclude: list[str] = []  # reps this transfer is not offered to again
        self.feedback: dict[str, dict] = {}
        self.plan = Plan()
        self.enrichment: Enrichment | None = None
        self.inbox = Inbox()
        callback = inp.request.bot.callback_url
        self.step = StepRecord(self.tid, str(callback) if callback else None)
        self.index = search.Index() if inp.search_attributes else None
        self._publishing: workflow.ActivityHandle[Released | None] | None = None  # the opening publish, running

    @workflow.run
    async def run(self, inp: TransferInput) -> TransferResult:
        phase: Status | None = await self._start()
        while phase is not None:
            following = await self._run_phase(phase)
            if following is not None:
                check_transition(phase, following)
            phase = following
        await self._published()
        self.inbox.settle()
        self.inbox.refuse_all(f"the transfer is {self.status}; it takes no more actions")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return TransferResult(view=self.view())

    async def _run_phase(self, phase: Status) -> Status | None:
        match phase:
            case Status.PREPARING:
                return await self._prepare()
            case Status.CHECKING:
                return await self._check()
            case Status.OFFERED:
                return await self._offer()
            case Status.CONNECTING:
                return await self._connect()
            case Status.CONNECTED:
                return await self._confirmed()
            case Status.COMPLETED:
                return await self._close_with_feedback()
            case Status.QUEUED:
                return await self._wait_in_queue()
            case Status.AFTER_HOURS:
                return await self._after_hours()
            case Status.RECOVERING:
                return await self._recover()
            case Status.CALLBACK_SCHEDULED | Status.EMAIL_FOLLOW_UP | Status.ASYNC_FOLLOW_UP:
                return await self._follow_up(phase)
            case Status.CANCELLED:
                return await self._close(phase, "The prospect left before a rep took over")
            case Status.ABANDONED:
                return await self._close(phase, "The prospect left the queue")
        raise IllegalTransition(f"a transfer has no phase {phase}")

    # ---- the phases ------------------------------------------------------------------------------

    async def _start(self) -> Status:
        """Who is best placed, is anyone on shift, and the context package completed before any rep sees it."""
        self.plan = await self._plan()
        self.rep = self.plan.best
        reason = self.ctx.transfer_reason or "no reason given"
        self._enter(Status.REQUESTED, f"{self.request.bot.name} asked for a rep: {reason}{self._who_can_help()}")
        self._adopt(self.plan.enrichment)
        if self.plan.account is not None:
            self._log("crm", f"CRM account {self.plan.account.account_id} found by {self.plan.account.matched_by}")
        if self.rep is None:
            self._notify("ops", "no_rep", {"message": "No rep can take this transfer; it waits for one."})
            return Status.ASYNC_FOLLOW_UP
        return Status.PREPARING if self.plan.on_shift else Status.AFTER_HOURS

    async def _prepare(self) -> Status:
        """Step 1: introduce the rep and ask for anything else to pass on; a note joins the package."""
        self._enter(Status.PREPARING, f"Introducing {self.rep.name} to the prospect")
        self._say("prepare", ["note", "proceed"])
        await self._flush()
        item = await self._next(self._after(self.inp.timings.prepare), note_is_answer=True)
        if item is None:
            self._log("timeout", "The prospect added nothing in time; going ahead")
        elif item.payload.action == "left":
            return Status.CANCELLED
        return Status.CHECKING

    async def _check(self) -> Status:
        """Step 2: a seat with the best rep free now, else a place in the queue, else a follow-up."""
        self._enter(Status.CHECKING, "Checking who can take it now")
        placed = await self._place()
        if placed.rep is not None:
            return Status.OFFERED
        if placed.placement.seats_on_shift == 0:
            await self._release()
            return Status.AFTER_HOURS if self.live else self._follow_up_at_next_opening()
        self.queue = _queue_info(placed)
        return Status.QUEUED

    async def _offer(self) -> Status:
        """Step 3: the rep gets the offer with the whole package and a countdown."""
        first_offer = not any(entry.status == Status.OFFERED for entry in self.step.timeline)
        self.queue = None
        self.offer_expires_at = self._after(self.inp.timings.offer)
        self._enter(Status.OFFERED, f"Offered to {self.rep.name}", kind="offered", rep_id=self.rep.id)
        self._alert_rep("offer" if self.live else "follow_up_due")
        if self.live:
            self._say("available" if first_offer else "rerouting")
        try:
            await self._flush(retry=_ALERT)
        except (ActivityError, ApplicationError) as err:  # a local activity's failure may come unwrapped
            return self._failed(f"The alert to {self.rep.name} could not be delivered ({err.cause or err})")
        while True:
            item = await self._next(self.offer_expires_at)
            if item is None:
                self._log("offer_timeout", f"{self.rep.name} did not answer in time; set away", rep_id=self.rep.id)
                return await self._next_rep(mark_away=True)
            if item.source == "prospect" and item.payload.action == "left":
                return Status.CANCELLED
            if item.source != "rep":
                continue
            action: RepAction = item.payload
            match action.action:
                case "accept":
                    return Status.CONNECTING
                case "decline":
                    self._log("declined", f"{self.rep.name} declined: {action.reason or 'no reason'}",
                              rep_id=self.rep.id)
                    return await self._next_rep()
                case "defer":
                    return await self._defer(action.defer_to)
                case "schedule_callback":
                    await self._release()
                    self.follow_up = FollowUp(self.rep, action.callback_at, "phone")
                    return Status.CALLBACK_SCHEDULED

    async def _connect(self) -> Status:
        """Step 4: the rep accepted and takes over in time, or recovery starts."""
        self.offer_expires_at = None
        self._enter(Status.CONNECTING, f"{self.rep.name} accepted", kind="accepted", rep_id=self.rep.id)
        if self.live:
            self._say("connecting")
        await self._flush()
        deadline = self._after(self.inp.timings.ack)
        while True:
            item = await self._next(deadline)
            if item is None:
                if self.live:
                    return self._failed(f"{self.rep.name} accepted but did not take over in time")
                self._log("ack_timeout", f"{self.rep.name} did not confirm the follow-up", rep_id=self.rep.id)
                return await self._next_rep(mark_away=True)
            if item.source == "rep":
                return Status.CONNECTED
            if item.payload.action == "left":
                return Status.CANCELLED
            if item.payload.action == "replied":
                self._mark_continued()

    async def _confirmed(self) -> Status:
        """The rep has the prospect: the prospect's first reply counts as continuation; then the outcome."""
        self.follow_up = None  # a follow-up, if this was one, has reached the prospect
        self._enter(Status.CONNECTED, f"{self.rep.name} took over", kind="connected", rep_id=self.rep.id)
        await self._flush()
        while True:
            item = await self._next(None)
            if item.source == "rep":
                self.outcome = item.payload.outcome
                return Status.COMPLETED
            if item.payload.action == "replied":
                self._mark_continued()
            elif item.payload.action == "left":
                self._log("left", "The prospect left the conversation")
            await self._flush()

    async def _close_with_feedback(self) -> None:
        """Step 5: the rep is free at once; the outcome goes to the CRM; then both sides' feedback, durably."""
        releasing = await self._release_in_publish()
        self._enter(Status.COMPLETED, f"Outcome: {self.outcome}", kind="outcome", data={"outcome": self.outcome})
        self.step.note_in_crm(CrmNote(
            key=f"{self.tid}:outcome", prospect=self.ctx.prospect, kind="transfer_outcome",
            text=f"Warm transfer {self.tid} handled by {self.rep.name}: {self.outcome}"))
        self._notify("rep", "feedback_request", {"questions": ["context_helpful", "missing", "prospect_repeated",
                                                               "improve"]}, rep_id=self.rep.id)
        self._notify("bot", "csat_request", {"scale": [1, 5]})
        await self._flush(release=releasing)
        deadline = self._after(self.inp.timings.feedback_wait)
        while len(self.feedback) < 2:
            item = await self._next(deadline)
            if item is None:
                self._log("feedback_timeout", f"Closed with feedback from: {', '.join(self.feedback) or 'nobody'}")
                break
            source = item.payload.source
            data = item.payload.model_dump(mode="json", by_alias=True, exclude={"rep_id"})
            self.feedback[source] = data
            self.step.keep_feedback(FeedbackRecord(source=source, rep_id=self.rep.id, data=data))
            self._log("feedback", f"Feedback from the {source}", data=data)
            await self._flush()

    async def _wait_in_queue(self) -> Status:
        """Queued: the prospect hears the place and the wait, and may wait, ask for a callback or an e-mail."""
        self._enter(Status.QUEUED, f"In queue at position {self.queue.position}, about "
                    f"{_minutes(self.queue.eta_seconds)} min", data=self.queue.model_dump())
        if self.live:
            self._say("queued", ["wait", "callback", "email"])
        await self._flush()
        self.exclude = []  # exclusions steer the immediate choice; in the queue any rep may take it
        while True:
            item = await self._next(self._after(self._recheck_seconds()), want_queue_news=True)
            if item is None or item.source == "queue":
                placed = await self._place()
                if placed.rep is not None:
                    return Status.OFFERED
                if placed.placement.position != self.queue.position:
                    self.queue = _queue_info(placed)
                    self._log("queue_moved", f"Now at position {self.queue.position}", data=self.queue.model_dump())
                    if self.live:
                        self._say("queue_update")
                    await self._flush()
                continue
            action: ProspectAction = item.payload
            if action.action == "wait":
                self._log("chose_wait", "The prospect chose to wait")
                await self._flush()
            elif action.action in ("callback", "email"):
                await self._release()
                self.queue = None
                return self._choose_follow_up(action, self._soonest_callback())
            elif action.action == "left":
                return Status.ABANDONED

    async def _after_hours(self) -> Status:
        """Nobody is on shift: the prospect picks how the rep follows up at their next opening."""
        opening = self.plan.next_opening or workflow.now()
        self._enter(Status.AFTER_HOURS, f"Nobody is on shift; {self.rep.name} works again at {opening.isoformat()}")
        self._say("after_hours", ["email", "callback"], at=opening)
        await self._flush()
        await self._ask_follow_up(opening)
        return Status.ASYNC_FOLLOW_UP

    async def _recover(self) -> Status:
        """Failed transfer recovery: apologise, log, alert the rep, and agree a callback or an e-mail."""
        releasing = await self._release_in_publish()
        self.offer_expires_at = None
        self._enter(Status.RECOVERING, self.failure, kind="failure", rep_id=self.rep.id if self.rep else None)
        self.step.note_in_crm(CrmNote(key=f"{self.tid}:failure:{len(self.step.timeline)}",
                                      prospect=self.ctx.prospect, kind="transfer_failed", text=self.failure))
        self._notify("ops", "transfer_failed", {"reason": self.failure})
        self._alert_rep("recovery")
        if self.live:
            self._say("failed", ["callback", "email"])
        await self._flush(release=releasing)
        return await self._ask_follow_up(self._soonest_callback())

    async def _follow_up(self, status: Status) -> Status:
        """Callback, e-mail and after-hours follow-ups: tell everyone, then a durable timer to the due time."""
        if self.follow_up is None:  # no rep could take it when it started: look again in an hour
            self.follow_up = FollowUp(None, workflow.now() + timedelta(hours=1), "email")
        follow_up, owner = self.follow_up, self.follow_up.owner
        self._enter(status, f"{owner.name if owner else 'the first free rep'} follows up by {follow_up.channel} at "
                    f"{follow_up.due.isoformat()}", kind="follow_up", rep_id=owner.id if owner else None,
                    data={"channel": follow_up.channel, "due": follow_up.due.isoformat()})
        if owner is not None:
            self._alert_rep("follow_up_scheduled", rep=owner)
            self.step.schedule(TaskRequest(
                key=f"{self.tid}:task:{len(self.step.timeline)}", rep_id=owner.id, due_at=follow_up.due,
                title=f"Follow up: {prospect_label(self.ctx.prospect, self.tid)}",
                description=task_description(self.ctx, owner.locale, follow_up.channel, self.tid)))
        if self.ctx.prospect.email:
            self._notify("prospect", "confirmation", confirmation(
                self.ctx.prospect.name, owner.name if owner else None, follow_up.channel, follow_up.due),
                email_to=self.ctx.prospect.email)
        if self.live:
            self._say(_CONFIRMED_LINE.get(status, "async_confirmed"), at=follow_up.due)
        self.live = False
        await self._flush()
        while (item := await self._next(follow_up.due)) is not None:
            if item.source == "rep":  # the owner reached the prospect before the due time
                self.rep = owner
                return Status.CONNECTED
            self._log("left", "The prospect left the chat; the follow-up stands")
            await self._flush()
        if owner is None:
            self.follow_up = None  # nobody owned it: look for a rep again, with a new due time
            self.plan = await self._plan()
            if self.plan.best is None:
                return status
        self.routing = self.routing.model_copy(update={"preferred_rep_id": (owner or self.plan.best).id})
        self.exclude = []
        return Status.CHECKING

    async def _close(self, status: Status, detail: str) -> None:
        """The prospect left: the transfer gives up its place and the rep is told."""
        releasing = await self._release_in_publish()
        self.offer_expires_at = None
        self._enter(status, detail, kind=status)
        if self.rep is not None:
            self._notify("rep", "withdrawn", {"reason": detail}, rep_id=self.rep.id)
        await self._flush(release=releasing)

    # ---- decisions shared by the phases ----------------------------------------------------------

    def _failed(self, reason: str) -> Status:
        self.failure = reason
        return Status.RECOVERING

    async def _ask_follow_up(self, default_due: datetime) -> Status:
        """The prospect picks callback or e-mail; if they say nothing or leave, use what we know of them."""
        item = await self._next(self._after(self.inp.timings.choice)) if self.live else None
        if item is None or item.payload.action == "left":
            channel = "phone" if self.ctx.prospect.phone else "email"
            self.follow_up = FollowUp(self.rep, default_due, channel)
            return Status.CALLBACK_SCHEDULED if channel == "phone" else Status.EMAIL_FOLLOW_UP
        return self._choose_follow_up(item.payload, default_due)

    def _choose_follow_up(self, action: ProspectAction, default_due: datetime) -> Status:
        if action.phone:
            self.ctx.prospect.phone = action.phone
        if action.email:
            self.ctx.prospect.email = action.email
        if action.action == "email":
            self.follow_up = FollowUp(self.rep, default_due, "email")
            return Status.EMAIL_FOLLOW_UP
        due = action.callback_at if action.callback_at and action.callback_at > workflow.now() else default_due
        self.follow_up = FollowUp(self.rep, due, "phone")
        return Status.CALLBACK_SCHEDULED

    def _follow_up_at_next_opening(self) -> Status:
        """A follow-up found nobody on shift: wait for the owner's next opening."""
        due = self.plan.next_opening or workflow.now() + timedelta(hours=1)
        self.follow_up = FollowUp(self.rep, due, "phone" if self.ctx.prospect.phone else "email")
        return Status.ASYNC_FOLLOW_UP

    def _soonest_callback(self) -> datetime:
        return self._after(self.inp.timings.recovery_minutes * 60)

    def _recheck_seconds(self) -> int:
        if not workflow.patched(RECHECK_BY_PLACE):  # transfers queued before it keep rechecking at the base rate
            return self.inp.timings.queue_recheck
        return recheck_seconds(self.inp.timings.queue_recheck, self.queue.position)

    async def _next_rep(self, mark_away: bool = False) -> Status:
        self.exclude = [*self.exclude, self.rep.id]
        await self._release(mark_away=self.rep.id if mark_away else None)
        return Status.CHECKING

    async def _defer(self, colleague: str | None) -> Status:
        self._log("deferred", f"{self.rep.name} deferred to {colleague or 'a colleague'}", rep_id=self.rep.id)
        self.exclude = [*self.exclude, self.rep.id]
        await self._release()
        if colleague:
            reserved = await self._local(RoutingActivities.reserve,
                                         ReserveInput(now=workflow.now(), transfer_id=self.tid, rep_id=colleague))
            if reserved.ok:
                self.rep = reserved.rep
                return Status.OFFERED
            self._log("defer_failed", f"{colleague} cannot take it now; finding the next best rep")
        return Status.CHECKING

    def _mark_continued(self) -> None:
        if not self.continued:
            self.continued = True
            self._log("continuation", "The prospect replied to the rep")

    def _adopt(self, enrichment: Enrichment | None) -> None:
        """The package, completed before any rep sees it; what was derived is logged with its source."""
        if enrichment is None:
            return
        self.enrichment = enrichment
        self.ctx = enrichment.context.model_copy(update={"transfer_id": self.tid})
        if enrichment.derived:
            filled = "; ".join(f"{d.field} from {d.source}" for d in enrichment.derived)
            self._log("enriched", f"Completed the context package: {filled}",
                      data={"derived": [d.model_dump(mode="json") for d in enrichment.derived]})

    def _who_can_help(self) -> str:
        """The seed's internal check, for ops: the best rep and who else could take it."""
        if self.rep is None:
            return ""
        others = ", ".join(rep.name.split()[0] for rep in self.plan.alternatives)
        return f". Best placed: {self.rep.name}" + (f"; also able to help: {others}" if others else "")

    def _after(self, seconds: float) -> datetime:
        return workflow.now() + timedelta(seconds=seconds)

    # ---- routing: the plan, seats and the queue --------------------------------------------------

    async def _plan(self) -> Plan:
        return await self._local(RoutingActivities.plan, PlanInput(
            now=workflow.now(), transfer_id=self.tid, routing=self.routing, context=self.ctx,
            locale=self.request.bot.locale))

    async def _place(self) -> Placed:
        """Seat or queue place (idempotent); wakes any transfer this decision handed a seat to."""
        placed = await self._local(RoutingActivities.place, PlaceInput(
            now=workflow.now(), transfer_id=self.tid, routing=self.routing, exclude=self.exclude))
        await self._wake(placed.placement.to_wake(besides=self.tid))
        if placed.rep is not None:
            self.rep = placed.rep
        return placed

    async def _release(self, mark_away: str | None = None) -> None:
        released = await self._local(RoutingActivities.release,
                                     ReleaseInput(now=workflow.now(), transfer_id=self.tid, mark_away=mark_away))
        await self._wake(released.to_wake)

    async def _release_in_publish(self) -> bool:
        """For a step that releases and then publishes: True if its publish is to release too; otherwise (a
        transfer that reached this step on older code) the release runs now, on its own."""
        if workflow.patched(RELEASE_IN_PUBLISH):
            return True
        await self._release()
        return False

    async def _wake(self, transfer_ids: list[str]) -> None:
        """Tell transfers this decision seated or moved; sent together, in one workflow task."""
        handles = [workflow.get_external_workflow_handle(t) for t in transfer_ids]
        outcomes = await asyncio.gather(
            *(h.signal(TransferWorkflow.queue_changed) for h in handles), return_exceptions=True
        )
        for transfer_id, outcome in zip(transfer_ids, outcomes, strict=True):
            if isinstance(outcome, Exception):  # it closed meanwhile; nothing is waiting for the news
                workflow.logger.info("transfer %s ended before the queue news reached it", transfer_id)

    # ---- what the transfer says and records ------------------------------------------------------

    def _enter(self, status: Status, detail: str, kind: str | None = None, rep_id: str | None = None,
               data: dict | None = None) -> None:
        self.branch = branch_on_entering(status, self.branch)
        self.status = status
        self._log(kind or status, detail, rep_id=rep_id, data=data)
        workflow.set_current_details(f"{status}: {detail}")
        self._notify("bot", "status", {"status": status, "detail": detail,
                                       "rep": self.rep.model_dump() if self.rep else None,
                                       "queue": self.queue.model_dump() if self.queue else None})

    def _log(self, kind: str, detail: str, rep_id: str | None = None, data: dict | None = None) -> None:
        self.step.log(workflow.now(), self.status, kind, detail, rep_id, data)

    def _notify(self, audience: Audience, kind: str, payload: dict, rep_id: str | None = None,
                email_to: str | None = None, key: str | None = None) -> None:
        self.step.notify(audience, kind, payload, rep_id=rep_id, email_to=email_to, key=key)

    def _say(self, kind: str, choices: list[str] | None = None, at: datetime | None = None) -> None:
        rep, locale = self.rep, self.request.bot.locale
        facts = LineFacts(
            rep_name=rep.name if rep else None, rep_title=rep.title if rep else None,
            rep_expertise=rep.expertise if rep else None, team=self.routing.team,
            prospect_name=self.ctx.prospect.name, bot_name=self.request.bot.name,
            position=self.queue.position if self.queue else None,
            wait_seconds=self.queue.eta_seconds if self.queue else None, at=at,
            prospect_timezone=self.ctx.prospect.timezone, phone=self.ctx.prospect.phone,
            email=self.ctx.prospect.email, recovery_minutes=self.inp.timings.recovery_minutes, now=workflow.now())
        line = BotLine(seq=len(self.bot_lines) + 1, kind=kind, text=bot_line(kind, locale, facts), locale=locale,
                       choices=choices or [])
        self.bot_lines.append(line)
        self._notify("bot", "bot_line", line.model_dump(mode="json"), key=f"line-{line.seq}")

    def _alert_rep(self, kind: str, rep: RepSummary | None = None) -> None:
        rep = rep or self.rep
        follow_up = self.follow_up
        self._notify("rep", kind, {
            "alert": rep_alert(self.ctx, rep.locale, self.ctx.transfer_reason).model_dump(mode="json"),
            "context": self.ctx.model_dump(mode="json"),
            "account": self.plan.account.model_dump(mode="json") if self.plan.account else None,
            "enrichment": self.enrichment.model_dump(mode="json", exclude={"context"}) if self.enrichment else None,
            "expires_at": self.offer_expires_at.isoformat() if self.offer_expires_at else None,
            "follow_up": None if follow_up is None else {
                "channel": follow_up.channel, "due": follow_up.due.isoformat(),
                "phone": self.ctx.prospect.phone, "email": self.ctx.prospect.email},
        }, rep_id=rep.id)

    async def _flush(self, retry: RetryPolicy = _QUICK, release: bool = False) -> None:
        """Publish everything this step produced in one activity (releasing the transfer's place first, if asked),
        then wake whoever the release moved, and index the new state for ops.

        The first publish does not hold up the bot's first answer: it runs as an activity, started with the
        answer and usually on this worker at once, and every later publish waits for it, so steps still
        publish in order. The others are local activities that finish before their step's answer."""
        await self._published()
        batch = self.step.take(workflow.now(), self._facts(), release)
        if batch is not None:
            if self.step.batches == 1 and not release and workflow.patched(OPENING_PUBLISH_AFTER_ANSWER):
                self._publishing = workflow.start_activity_method(
                    PublishActivities.publish, batch, start_to_close_timeout=_ACTIVITY_TIMEOUT, retry_policy=retry)
            else:
                released = await self._local(PublishActivities.publish, batch, retry=retry)
                if released is not None:
                    await self._wake(released.to_wake)
        if self.index is not None:
            self.index.update(self.status, self.branch, self.routing.team, self.rep.id if self.rep else None,
                              self.ctx.qualification.score)

    async def _published(self) -> None:
        """Wait for the opening publish, if it is still running."""
        if self._publishing is not None:
            await self._publishing  # it never releases, so there is no one to wake
            self._publishing = None

    def _facts(self) -> TransferFacts:
        p, trigger = self.ctx.prospect, self.request.trigger
        return TransferFacts(
            transfer_id=self.tid, status=self.status, branch=self.branch, team=self.routing.team,
            rep_id=self.rep.id if self.rep else None, score=self.ctx.qualification.score, outcome=self.outcome,
            created_at=self.created_at,
            summary={"prospect": p.name, "company": p.company, "reason": self.ctx.transfer_reason,
                     "locale": self.request.bot.locale, "bot": self.request.bot.name, "continued": self.continued,
                     "category": trigger.category, "triggers": trigger.triggers},
        )

    async def _local(self, activity: Any, arg: Any, retry: RetryPolicy = _QUICK) -> Any:
        return await workflow.execute_local_activity_method(
            activity, arg, start_to_close_timeout=_ACTIVITY_TIMEOUT, retry_policy=retry)

    # ---- inputs: updates, their validators, queue news -------------------------------------------

    async def _next(self, deadline: datetime | None, note_is_answer: bool = False,
                    want_queue_news: bool = False) -> PendingInput | None:
        """Settle the actions acted on so far, then wait for the next input (None: the deadline passed).

        A note is added to the context wherever it comes, and is only returned where it answers the
        bot's question; news of the queue (a seat, a new place) is only of use while queued.
        """
        while True:
            self.inbox.settle()
            timeout = None if deadline is None else (deadline - workflow.now()).total_seconds()
            if timeout is not None and timeout <= 0:
                return None
            try:
                await workflow.wait_condition(lambda: bool(self.inbox), timeout=timeout)
            except TimeoutError:
                return None
            item = self.inbox.take()
            if not self._still_valid(item):
                continue
            self.inbox.acting_on(item)
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
        except ActionRefused as refusal:
            self.inbox.refuse(item, str(refusal))
            return False
        return True

    def _add_note(self, note: str) -> None:
        self.ctx.prospect_notes.append(note)
        self._log("note", f"The prospect added: {note}")
        if self.rep is not None and self.status in (Status.OFFERED, Status.CONNECTING, Status.CONNECTED):
            self._notify("rep", "note", {"note": note}, rep_id=self.rep.id)

    async def _submit(self, source: Source, payload: Any) -> TransferView:
        ticket = self.inbox.put(source, payload)
        await workflow.wait_condition(lambda: self.inbox.answered(ticket))
        refusal = self.inbox.answer(ticket)
        if refusal:
            raise ApplicationError(refusal, type="Rejected", non_retryable=True)
        return self.view()

    @workflow.update
    async def ready(self) -> TransferView:
        """The first answer for the bot: the view once the opening line is ready."""
        await workflow.wait_condition(lambda: self.inbox.waits > 0)
        return self.view()

    @workflow.update
    async def prospect(self, action: ProspectAction) -> TransferView:
        return await self._submit("prospect", action)

    @prospect.validator
    def _check_prospect(self, action: ProspectAction) -> None:
        check_action(PROSPECT_ACTIONS, self.status, action.action)

    @workflow.update
    async def rep_action(self, action: RepAction) -> TransferView:
        return await self._submit("rep", action)

    @rep_action.validator
    def _check_rep(self, action: RepAction) -> None:
        check_action(REP_ACTIONS, self.status, action.action)
        owner = self.follow_up.owner if follow_up_owner_acts(self.status) and self.follow_up else self.rep
        if owner is None or action.rep_id != owner.id:
            raise ActionRefused("this transfer is not yours to act on")
        if self.status == Status.OFFERED and self.offer_expires_at and workflow.now() >= self.offer_expires_at:
            raise ActionRefused("the offer has expired")
        if action.action == "defer" and action.defer_to == action.rep_id:
            raise ActionRefused("defer to a colleague, not to yourself")
        if action.action == "schedule_callback" and action.callback_at <= workflow.now():
            raise ActionRefused("callback_at must be in the future")

    @workflow.update
    async def give_feedback(self, feedback: RepFeedback | ProspectFeedback) -> TransferView:
        return await self._submit("feedback", feedback)

    @give_feedback.validator
    def _check_feedback(self, feedback: RepFeedback | ProspectFeedback) -> None:
        if self.status != Status.COMPLETED:
            raise ActionRefused(f"feedback is asked for once the transfer is completed; it is {self.status}")
        if feedback.source in self.feedback or any(
            item.payload.source == feedback.source for item in self.inbox.waiting("feedback")
        ):
            raise ActionRefused(f"feedback from the {feedback.source} was already given")
        if feedback.source == "rep" and (self.rep is None or feedback.rep_id != self.rep.id):
            raise ActionRefused("only the rep who handled the transfer can give rep feedback")

    @workflow.signal
    def queue_changed(self) -> None:
        """Another decision gave this transfer a seat or moved its place in the queue: look again now."""
        self.inbox.put("queue", None)

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
            timeline=self.step.timeline,
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
