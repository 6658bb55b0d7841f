"""TransferWorkflow: one durable transfer from bot to rep, through every branch of the seed.

`run` is the seed's flow: prepare, check, offer, connect, confirm, close; or queue, after hours, recovery and
follow-ups. Each phase does its state's work, waits for what comes next (a rep or prospect action, a seat
handed over by another transfer, or a timer) and returns the next state, along the moves `domain.lifecycle`
allows. Actions arrive as updates: each waits in the inbox until the workflow has acted on it and waits again,
so a caller always sees the state its action led to. What a step makes known is published once, at its end.
What the state says and allows, without Temporal, is in workflows/state.py.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    import email_validator  # noqa: F401  A ProspectAction's e-mail check imports from it as it runs, in the sandbox too

    from activities.models import Placed, PlaceInput, Plan, PlanInput, Released, ReleaseInput, ReserveInput
    from activities.publish import PublishActivities
    from activities.routing import RoutingActivities
    from domain.eta import recheck_seconds
    from domain.lifecycle import IllegalTransition, Status, check_transition
    from domain.notices import DeliveryFailure
    from domain.requests import ProspectAction, ProspectFeedback, RepAction, RepFeedback
    from domain.scripts import written_in
    from domain.view import BriefFacts, TransferView
    from workflows import search
    from workflows.inbox import PendingInput, Source
    from workflows.models import TransferInput, TransferResult
    from workflows.state import LOOK_AGAIN_SECONDS, FollowUp, TransferState

# workflow.patched ids, one per change that altered what running transfers do
RECHECK_BY_PLACE = "queue-recheck-by-place"  # deeper places in the queue recheck less often
RELEASE_IN_PUBLISH = "release-in-publish"  # a step that releases its place does it in its publish
OPENING_PUBLISH_AFTER_ANSWER = "opening-publish-after-answer"  # the first publish runs after the first answer
LINES_LABELLED_BY_LANGUAGE = "lines-labelled-by-language"  # a bot line's locale is the language it is written in
QUEUE_NAMES_ONLY_A_BUSY_REP = "queue-names-only-a-busy-rep"  # "X is with another customer" only if X is
APOLOGY_NAMES_ONLY_A_TECHNICAL_CAUSE = "apology-names-only-a-technical-cause"  # not for a rep who did not take over
BOT_LINES_FOLLOW_THE_REP = "bot-lines-follow-the-rep"  # "can't take this after all" not of the rep named

_QUICK = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10))
_ALERT = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=2), maximum_attempts=4
)
_ACTIVITY_TIMEOUT = timedelta(seconds=10)


@workflow.defn
class TransferWorkflow(TransferState):
    @workflow.init
    def __init__(self, inp: TransferInput) -> None:
        # Only a bot whose locale has no lines of its own sees the change, so only its transfers record the patch.
        locale = inp.request.bot.locale
        super().__init__(inp, inp.request.transfer_id or workflow.info().workflow_id, workflow.now,
                         label_lines_by_language=written_in(locale) == locale
                         or workflow.patched(LINES_LABELLED_BY_LANGUAGE))
        self.index = search.Index() if inp.search_attributes else None
        self._publishing: workflow.ActivityHandle[Released | None] | None = None  # the opening publish, running

    @workflow.run
    async def run(self, inp: TransferInput) -> TransferResult:
        phase: Status | None = await self._start()
        check_transition(Status.REQUESTED, phase)
        while phase is not None:
            following = await self._run_phase(phase)
            if following is not None:
                check_transition(phase, following)
            phase = following
        await self._published()
        self.inbox.settle()
        self.inbox.refuse_all(f"the transfer is {self.status}; it takes no more actions")
        await workflow.wait_condition(workflow.all_handlers_finished)
        return TransferResult(view=self.as_view())

    async def _run_phase(self, phase: Status) -> Status | None:
        match phase:
            case Status.PREPARING:
                return await self._prepare()
            case Status.CHECKING:
                return await self._check_availability()
            case Status.OFFERED:
                return await self._offer()
            case Status.CONNECTING:
                return await self._confirm()
            case Status.CONNECTED:
                return await self._connected()
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
                return await self._end_without_rep(phase, "The prospect left before a rep took over")
            case Status.ABANDONED:
                return await self._end_without_rep(phase, "The prospect left the queue")
        raise IllegalTransition(f"a transfer has no phase {phase}")

    # ---- the phases ------------------------------------------------------------------------------

    async def _start(self) -> Status:
        """Who is best placed, is anyone on shift, and the context package completed before any rep sees it."""
        self.adopt(await self._plan())
        if self.rep is None:
            self.notify("ops", "no_rep", {"message": "No rep can take this transfer; it waits for one."})
            return Status.ASYNC_FOLLOW_UP
        return Status.PREPARING if self.plan.on_shift else Status.AFTER_HOURS

    async def _prepare(self) -> Status:
        """Step 1: introduce the rep and ask for anything else to pass on; a note joins the package."""
        self.enter(Status.PREPARING, f"Introducing {self.rep.name} to the prospect")
        self.say("prepare", ["note", "proceed"])
        await self._flush()
        item = await self._next(self.deadline_in(self.inp.timings.prepare), note_is_answer=True)
        if item is None:
            self.log("timeout", "The prospect added nothing in time; going ahead")
        elif item.payload.action == "left":
            return Status.CANCELLED
        return Status.CHECKING

    async def _check_availability(self) -> Status:
        """Step 2: a seat with the best rep free now, else a place in the queue, else a follow-up."""
        self.enter(Status.CHECKING, "Checking who can take it now")
        placed = await self._place()
        if placed.rep is not None:
            return Status.OFFERED
        if placed.placement.seats_on_shift == 0:
            await self._release()
            return Status.AFTER_HOURS if self.live else self.follow_up_at_next_opening()
        self.hold_queue_place(placed)
        return Status.QUEUED

    async def _offer(self) -> Status:
        """Step 3: the rep gets the offer with the whole package and a countdown."""
        first_offer = not any(entry.status == Status.OFFERED for entry in self.step.timeline)
        self.queue = None
        self.offer_expires_at = self.deadline_in(self.inp.timings.offer)
        self.enter(Status.OFFERED, f"Offered to {self.rep.name}", kind="offered", rep_id=self.rep.id)
        self.offer_key = self.alert_rep("offer" if self.live else "follow_up_due")
        if self.live:
            self.say(self._offer_line(first_offer))
        try:
            await self._flush(retry=_ALERT)
        except (ActivityError, ApplicationError) as err:  # a local activity's failure may come unwrapped
            return self.recover_because(f"The alert to {self.rep.name} could not be delivered ({err.cause or err})")
        while True:
            item = await self._next(self.offer_expires_at)
            if item is None:
                self.log("offer_timeout", f"{self.rep.name} did not answer in time; set away", rep_id=self.rep.id)
                self.close_offer("expired")
                return await self._next_rep(mark_away=True)
            if item.source == "prospect" and item.payload.action == "left":
                self.close_offer("withdrawn")
                return Status.CANCELLED
            if item.source != "rep":
                continue
            action: RepAction = item.payload
            match action.action:
                case "accept":
                    self.close_offer("accepted")
                    return Status.CONNECTING
                case "decline":
                    self.log("declined", f"{self.rep.name} declined: {action.reason or 'no reason'}",
                             rep_id=self.rep.id)
                    self.close_offer("declined")
                    return await self._next_rep()
                case "defer":
                    return await self._defer(action.defer_to)
                case "schedule_callback":
                    self.close_offer("callback", at=action.callback_at)
                    await self._release()
                    self.follow_up = FollowUp(self.rep, action.callback_at, "phone")
                    return Status.CALLBACK_SCHEDULED

    def _offer_line(self, first_offer: bool) -> str:
        """A later offer to the rep the prospect last heard named is 'available' ("free now"), not 'rerouting': the
        prospect was told "can't take this after all" about the very rep offered again after the queue. (The first
        offer is 'available' whoever it goes to: its line is the one every transfer's latency is measured by.)"""
        if first_offer:
            return "available"
        named = self.named_rep_id == self.rep.id
        return "available" if named and workflow.patched(BOT_LINES_FOLLOW_THE_REP) else "rerouting"

    async def _confirm(self) -> Status:
        """Step 4: the rep accepted and takes over in time, or recovery starts."""
        self.offer_expires_at = None
        self.enter(Status.CONNECTING, f"{self.rep.name} accepted", kind="accepted", rep_id=self.rep.id)
        if self.live:
            self.say("connecting")
        await self._flush()
        deadline = self.deadline_in(self.inp.timings.ack)
        while True:
            item = await self._next(deadline)
            if item is None:
                if self.live:
                    return self.recover_because(f"{self.rep.name} accepted but did not take over in time",
                                                technical=not workflow.patched(APOLOGY_NAMES_ONLY_A_TECHNICAL_CAUSE))
                self.log("ack_timeout", f"{self.rep.name} did not confirm the follow-up", rep_id=self.rep.id)
                return await self._next_rep(mark_away=True)
            if item.source == "rep":
                return Status.CONNECTED
            if item.payload.action == "left":
                return Status.CANCELLED
            if item.payload.action == "replied":
                self.mark_continued()

    async def _connected(self) -> Status:
        """The rep has the prospect: the prospect's first reply counts as continuation; then the outcome."""
        self.follow_up = None  # a follow-up, if this was one, has reached the prospect
        self.close_task(cancelled=False)
        self.enter(Status.CONNECTED, f"{self.rep.name} took over", kind="connected", rep_id=self.rep.id)
        await self._flush()
        while True:
            item = await self._next(None)
            if item.source == "rep":
                self.outcome = item.payload.outcome
                return Status.COMPLETED
            if item.payload.action == "replied":
                self.mark_continued()
            elif item.payload.action == "left":
                self.log("left", "The prospect left the conversation")
            await self._flush()

    async def _close_with_feedback(self) -> None:
        """Step 5: the rep is free at once; the outcome goes to the CRM; then both sides' feedback, durably."""
        releasing = await self._release_in_publish()
        self.enter(Status.COMPLETED, f"Outcome: {self.outcome}", kind="outcome", data={"outcome": self.outcome})
        self.announce_outcome()
        await self._flush(release=releasing)
        deadline = self.deadline_in(self.inp.timings.feedback_wait)
        while len(self.feedback) < 2:
            item = await self._next(deadline)
            if item is None:
                self.log("feedback_timeout", f"Closed with feedback from: {', '.join(self.feedback) or 'nobody'}")
                break
            self.keep_feedback(item.payload)
            await self._flush()

    async def _wait_in_queue(self) -> Status:
        """Queued: the prospect hears the place and the wait, and may wait, ask for a callback or an e-mail."""
        self.rep_passed_over = (self.rep is not None and self.rep.id in self.exclude
                                and workflow.patched(QUEUE_NAMES_ONLY_A_BUSY_REP))
        if self.rep_passed_over:
            self.offer_expires_at = None  # the lapsed or declined offer's deadline means nothing in the queue
        self.enter(Status.QUEUED, f"In queue at position {self.queue.position}, about "
                   f"{max(1, round(self.queue.eta_seconds / 60))} min", data=self.queue.model_dump())
        if self.live:
            self.say("queued", ["wait", "callback", "email"])
        await self._flush()
        self.exclude = []  # exclusions steer the immediate choice; in the queue any rep may take it
        while True:
            item = await self._next(self.deadline_in(self._recheck_seconds()), want_queue_news=True)
            if item is None or item.source == "queue":
                placed = await self._place()
                if placed.rep is not None:
                    return Status.OFFERED
                if placed.placement.position != self.queue.position:
                    self.hold_queue_place(placed)
                    self.log("queue_moved", f"Now at position {self.queue.position}", data=self.queue.model_dump())
                    if self.live:
                        self.say("queue_update")
                    await self._flush()
                continue
            action: ProspectAction = item.payload
            if action.action == "wait":
                self.log("chose_wait", "The prospect chose to wait")
                await self._flush()
            elif action.action in ("callback", "email"):
                await self._release()
                self.queue = None
                return self.choose_follow_up(action, self.soonest_callback())
            elif action.action == "left":
                return Status.ABANDONED

    async def _after_hours(self) -> Status:
        """Nobody is on shift: the prospect picks how the rep follows up at their next opening."""
        opening = self.plan.next_opening or workflow.now()
        self.enter(Status.AFTER_HOURS, f"Nobody is on shift; {self.rep.name} works again at {opening.isoformat()}")
        self.say("after_hours", ["email", "callback"], at=opening)
        self.propose_follow_up(opening)
        await self._flush()
        await self._ask_follow_up(opening)
        return Status.ASYNC_FOLLOW_UP

    async def _recover(self) -> Status:
        """Failed transfer recovery: apologise, log, alert the rep, and agree a callback or an e-mail."""
        releasing = await self._release_in_publish()
        self.offer_expires_at = None
        self.enter(Status.RECOVERING, self.failure, kind="failure", rep_id=self.rep.id if self.rep else None)
        self.announce_failure()
        await self._flush(release=releasing)
        callback_at = self.soonest_callback()  # the time the apology names ("within 10 minutes")
        self.propose_follow_up(callback_at)
        return await self._ask_follow_up(callback_at)

    async def _follow_up(self, status: Status) -> Status:
        """Callback, e-mail and after-hours follow-ups: tell everyone, then a durable timer to the due time."""
        if self.follow_up is None:  # no rep could take it when it started: look again in an hour
            self.follow_up = FollowUp(None, self.deadline_in(LOOK_AGAIN_SECONDS), self._likely_channel())
        follow_up, owner = self.follow_up, self.follow_up.owner
        self.announce_follow_up(status)
        await self._flush()
        while (item := await self._next(follow_up.due)) is not None:
            if item.source == "rep":  # the owner reached the prospect before the due time
                self.rep = owner
                return Status.CONNECTED
            self.log("left", "The prospect left the chat; the follow-up stands")
            await self._flush()
        if owner is None:
            self.follow_up = None  # nobody owned it: look for a rep again, with a new due time
            self.plan = await self._plan()
            if self.plan.best is None:
                return status
        self.routing = self.routing.model_copy(update={"preferred_rep_id": (owner or self.plan.best).id})
        self.exclude = []
        return Status.CHECKING

    async def _end_without_rep(self, status: Status, detail: str) -> None:
        """The prospect left: the transfer gives up its place and the rep is told."""
        releasing = await self._release_in_publish()
        self.offer_expires_at = None
        self.enter(status, detail, kind=status)
        self.close_task(cancelled=True)
        if self.rep is not None:
            self.notify("rep", "withdrawn", {"reason": detail}, rep_id=self.rep.id)
        await self._flush(release=releasing)

    async def _ask_follow_up(self, default_due: datetime) -> Status:
        """The prospect picks callback or e-mail; if they say nothing or leave, use what we know of them."""
        item = await self._next(self.deadline_in(self.inp.timings.choice)) if self.live else None
        return self.choose_follow_up(None if item is None or item.payload.action == "left" else item.payload,
                                     default_due)

    def _recheck_seconds(self) -> int:
        if not workflow.patched(RECHECK_BY_PLACE):  # transfers queued before it keep rechecking at the base rate
            return self.inp.timings.queue_recheck
        return recheck_seconds(self.inp.timings.queue_recheck, self.queue.position)

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

    async def _next_rep(self, mark_away: bool = False) -> Status:
        self.exclude = [*self.exclude, self.rep.id]
        await self._release(mark_away=self.rep.id if mark_away else None)
        return Status.CHECKING

    async def _defer(self, colleague: str | None) -> Status:
        self.log("deferred", f"{self.rep.name} deferred to {colleague or 'a colleague'}", rep_id=self.rep.id)
        self.exclude = [*self.exclude, self.rep.id]
        await self._release()
        if colleague:
            reserved = await self._local(RoutingActivities.reserve,
                                         ReserveInput(now=workflow.now(), transfer_id=self.tid, rep_id=colleague,
                                                      routing=self.routing))
            if reserved.ok:
                self.close_offer("deferred", colleague=reserved.rep)
                self.rep = reserved.rep
                return Status.OFFERED
            self.log("defer_failed", f"{colleague} cannot take it now; finding the next best rep")
        self.close_offer("deferred")
        return Status.CHECKING

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

    # ---- publishing each step --------------------------------------------------------------------

    def enter(self, status: Status, detail: str, kind: str | None = None, rep_id: str | None = None,
              data: dict | None = None) -> None:
        super().enter(status, detail, kind, rep_id, data)
        workflow.set_current_details(f"{status}: {detail}")

    async def _flush(self, retry: RetryPolicy = _QUICK, release: bool = False) -> None:
        """Publish everything this step produced in one activity (releasing the transfer's place first, if asked),
        then wake whoever the release moved, and index the new state for ops.

        The first publish does not hold up the bot's first answer: it runs as an activity, started with the
        answer and usually on this worker at once, and every later publish waits for it, so steps still
        publish in order. The others are local activities that finish before their step's answer."""
        await self._published()
        batch = self.step.take(workflow.now(), self.facts(), release)
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

    async def _local(self, activity: Any, arg: Any, retry: RetryPolicy = _QUICK) -> Any:
        return await workflow.execute_local_activity_method(
            activity, arg, start_to_close_timeout=_ACTIVITY_TIMEOUT, retry_policy=retry)

    # ---- inputs: updates, their validators, queue news -------------------------------------------

    async def _next(self, deadline: datetime | None, note_is_answer: bool = False,
                    want_queue_news: bool = False) -> PendingInput | None:
        """Settle the actions acted on so far, then wait for the next input (None: the deadline passed).

        A note is added to the context wherever it comes, and is only returned where it answers the
        bot's question; news of the queue (a seat, a new place) is only of use while queued; a failed delivery
        only joins the timeline.
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
            if not self.still_valid(item):
                continue
            self.inbox.acting_on(item)
            if item.source == "queue" and not want_queue_news:
                continue
            if item.source == "delivery":  # whatever the step, the timeline shows it at once
                self.note_delivery_failure(item.payload)
                await self._flush()
                continue
            if item.source == "prospect" and item.payload.action == "note":
                self.add_note(item.payload.note)
                if not note_is_answer:
                    await self._flush()
                    continue
            return item

    async def _submit(self, source: Source, payload: Any) -> TransferView:
        ticket = self.inbox.put(source, payload)
        await workflow.wait_condition(lambda: self.inbox.answered(ticket))
        if refusal := self.inbox.answer(ticket):
            raise ApplicationError(refusal, type="Rejected", non_retryable=True)
        return self.as_view()

    @workflow.update
    async def ready(self) -> TransferView:
        """The first answer for the bot: the view once the opening line is ready."""
        await workflow.wait_condition(lambda: self.inbox.waits > 0)
        return self.as_view()

    @workflow.update
    async def prospect(self, action: ProspectAction) -> TransferView:
        return await self._submit("prospect", action)

    @prospect.validator
    def _validate_prospect(self, action: ProspectAction) -> None:
        self.check_new_prospect(action)

    @workflow.update
    async def rep_action(self, action: RepAction) -> TransferView:
        return await self._submit("rep", action)

    @rep_action.validator
    def _validate_rep(self, action: RepAction) -> None:
        self.check_new_rep(action)

    @workflow.update
    async def give_feedback(self, feedback: RepFeedback | ProspectFeedback) -> TransferView:
        return await self._submit("feedback", feedback)

    @give_feedback.validator
    def _validate_feedback(self, feedback: RepFeedback | ProspectFeedback) -> None:
        self.check_feedback(feedback)

    @workflow.signal
    def queue_changed(self) -> None:
        """Another decision gave this transfer a seat or moved its place in the queue: look again now."""
        self.inbox.put("queue", None)

    @workflow.signal
    def delivery_failed(self, failure: DeliveryFailure) -> None:
        """A channel outside the app could not deliver one of this transfer's notices (first attempt or for good)."""
        self.inbox.put("delivery", failure)

    @workflow.query
    def view(self, acting_key: str | None = None) -> TransferView | None:
        """The view; None for a bot key that may not see it (see TransferState.visible_to)."""
        return self.as_view() if self.visible_to(acting_key) else None

    @workflow.query
    def request_digest(self) -> str:
        return self.inp.request_digest

    @workflow.query
    def brief_facts(self) -> BriefFacts:
        derived = self.enrichment.derived if self.enrichment else []
        return BriefFacts(context=self.ctx, bot_name=self.request.bot.name, prospect_locale=self.line_locale,
                          approach_derived=any(item.field == "recommended_approach" for item in derived))
