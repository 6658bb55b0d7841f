"""A transfer's state, and what follows from it alone: what each step says and records, the choices that need
no outside answer, which actions it allows now, and its view. No Temporal calls (the clock is passed in), so
all of it is deterministic and is tested on its own; workflows/transfer.py runs the flow on top of it.

Imported passed through the sandbox, so it is loaded once per worker process, not afresh for every run as the
workflow's own module is (FollowUp, a dataclass, compiles its methods when it is defined).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from activities.models import CrmNote, FeedbackRecord, Placed, Plan, TaskClose, TaskRequest
from domain.context import PROSPECT_NOTES_MAX, ContextPackage, usable_email
from domain.enrichment import Enrichment
from domain.lifecycle import (
    FOLLOW_UP_KINDS,
    PROSPECT_ACTIONS,
    REP_ACTIONS,
    ActionRefused,
    Branch,
    FollowUpKind,
    NotTheOwner,
    Status,
    branch_on_entering,
    check_action,
    follow_up_owner_acts,
)
from domain.notices import Audience, DeliveryFailure
from domain.records import TransferFacts
from domain.requests import CALLBACK_HORIZON, ProspectAction, ProspectFeedback, RepAction, RepFeedback, Routing
from domain.scripts import LineFacts, OfferOutcome, bot_line, rep_alert, written_in
from domain.scripts.follow_up import confirmation, task_description, task_title
from domain.view import BotLine, QueueInfo, RepSummary, TransferView
from workflows.inbox import Inbox, PendingInput
from workflows.models import TransferInput
from workflows.steps import StepRecord

# The lines that tell the prospect who will help them.
_LINES_NAMING_THE_HELPER = ("prepare", "available", "rerouting")

FollowUpChannel = Literal["phone", "email"]
_CONFIRMED_LINE = {Status.CALLBACK_SCHEDULED: "callback_confirmed", Status.EMAIL_FOLLOW_UP: "email_confirmed"}
_FEEDBACK_QUESTIONS = ["context_helpful", "missing", "prospect_repeated", "improve"]
LOOK_AGAIN_SECONDS = 3600  # when nobody can take a follow-up, how soon to look for a rep again
_CHANNEL_NAMES = {"webhook": "The bot's webhook", "email": "E-mail", "chat": "Slack"}


@dataclass
class FollowUp:
    owner: RepSummary | None  # None: the first rep free when it is due
    due: datetime
    channel: FollowUpChannel


@dataclass
class OpenTask:
    """The follow-up's task on its owner's calendar, until it is done or called off."""

    key: str
    rep_id: str
    kind: FollowUpKind


class TransferState:
    def __init__(self, inp: TransferInput, transfer_id: str, clock: Callable[[], datetime],
                 label_lines_by_language: bool = True) -> None:
        """`label_lines_by_language`: label the bot's lines with the language they are written in (False: with
        the bot's locale as given, as transfers started before that change do)."""
        self.inp, self.request, self.tid, self.clock = inp, inp.request, transfer_id, clock
        self.line_locale = written_in(inp.request.bot.locale) if label_lines_by_language else inp.request.bot.locale
        self.ctx: ContextPackage = inp.request.context.model_copy(update={"transfer_id": transfer_id}, deep=True)
        self.routing: Routing = inp.request.routing
        self.created_at = clock()
        self.status = Status.REQUESTED
        self.branch: Branch | None = None
        self.plan = Plan()
        self.enrichment: Enrichment | None = None
        self.rep: RepSummary | None = None
        self.rep_passed_over = False  # the rep declined or let the offer lapse: not "with another customer"
        self.named_rep_id: str | None = None  # the rep the prospect last heard would help them
        self.exclude: list[str] = []  # reps this transfer is not offered to again
        self.queue: QueueInfo | None = None
        self.offer_expires_at: datetime | None = None
        self.offer_key: str | None = None  # the open offer's alert notice, which close_offer points to
        self.follow_up: FollowUp | None = None
        self.calendar_task: OpenTask | None = None
        self.failure: str | None = None  # why the transfer is recovering
        self.technical_failure = True  # its cause is technical, which the apology may say
        self.outcome: str | None = None
        self.feedback: dict[str, dict] = {}
        self.live = True  # the prospect is still in the chat, so the bot has lines to say
        self.continued = False
        self.bot_lines: list[BotLine] = []
        self.inbox = Inbox()
        callback = inp.request.bot.callback_url
        self.step = StepRecord(transfer_id, str(callback) if callback else None)

    def deadline_in(self, seconds: float) -> datetime:
        return self.clock() + timedelta(seconds=seconds)

    # ---- what the transfer says and records ------------------------------------------------------

    def enter(self, status: Status, detail: str, kind: str | None = None, rep_id: str | None = None,
              data: dict | None = None) -> None:
        self.branch = branch_on_entering(status, self.branch)
        self.status = status
        self.log(kind or status, detail, rep_id=rep_id, data=data)
        # `seq`: the timeline entry this change is, so two changes to the same state are two events to a bot.
        self.notify("bot", "status", {"seq": len(self.step.timeline), "status": status, "detail": detail,
                                      "rep": self.rep.model_dump() if self.rep else None,
                                      "queue": self.queue.model_dump() if self.queue else None})

    def log(self, kind: str, detail: str, rep_id: str | None = None, data: dict | None = None) -> None:
        self.step.log(self.clock(), self.status, kind, detail, rep_id, data)

    def notify(self, audience: Audience, kind: str, payload: dict, rep_id: str | None = None,
               email_to: str | None = None, key: str | None = None) -> str:
        return self.step.notify(audience, kind, payload, rep_id=rep_id, email_to=email_to, key=key)

    def say(self, kind: str, choices: list[str] | None = None, at: datetime | None = None) -> None:
        """The bot's next line to the prospect, in the bot's language."""
        rep, queue, prospect, locale = self.rep, self.queue, self.ctx.prospect, self.line_locale
        facts = LineFacts(
            rep_name=rep and rep.name, rep_is_busy=not self.rep_passed_over, rep_title=rep and rep.title,
            rep_expertise=rep and rep.expertise,
            team=self.routing.team, prospect_name=prospect.name, bot_name=self.request.bot.name,
            position=queue and queue.position, wait_seconds=queue and queue.eta_seconds, at=at,
            prospect_timezone=prospect.timezone, phone=prospect.phone, email=prospect.email,
            recovery_minutes=self.inp.timings.recovery_minutes, technical_failure=self.technical_failure,
            now=self.clock())
        text = bot_line(kind, locale, facts)
        if kind in _LINES_NAMING_THE_HELPER and rep is not None:
            self.named_rep_id = rep.id
        line = BotLine(seq=len(self.bot_lines) + 1, kind=kind, text=text, locale=locale, choices=choices or [])
        self.bot_lines.append(line)
        self.notify("bot", "bot_line", line.model_dump(mode="json"), key=f"line-{line.seq}")

    def alert_rep(self, kind: str, rep: RepSummary | None = None) -> str:
        """The rep's alert with the whole context package, in the rep's language; returns its notice's key."""
        rep, follow_up = rep or self.rep, self.follow_up
        return self.notify("rep", kind, {
            "alert": rep_alert(self.ctx, rep.locale, self.ctx.transfer_reason).model_dump(mode="json"),
            "context": self.ctx.model_dump(mode="json"),
            "account": self.plan.account.model_dump(mode="json") if self.plan.account else None,
            "crm_unavailable": self.plan.crm_unavailable,
            "enrichment": self.enrichment.model_dump(mode="json", exclude={"context"}) if self.enrichment else None,
            "expires_at": self.offer_expires_at.isoformat() if self.offer_expires_at else None,
            "follow_up": None if follow_up is None else {
                "channel": follow_up.channel, "due": follow_up.due.isoformat(),
                "phone": self.ctx.prospect.phone, "email": self.ctx.prospect.email},
        }, rep_id=rep.id)

    def close_offer(self, outcome: OfferOutcome, colleague: RepSummary | None = None,
                    at: datetime | None = None) -> None:
        """The offer to the current rep ended: a channel that shows its alert with buttons (Slack) edits it to say
        how, so nobody acts on it again."""
        self.notify("rep", "offer_closed", {
            "offer": self.offer_key, "outcome": outcome, "rep": self.rep.name,
            "colleague": colleague.name if colleague else None, "at": at.isoformat() if at else None,
        }, rep_id=self.rep.id)

    def adopt(self, plan: Plan) -> None:
        """The plan, and the package completed before any rep sees it; what was derived is logged with its source."""
        self.plan, self.rep = plan, plan.best
        who = ""  # the seed's internal check, for ops: the best rep and who else could take it
        if self.rep is not None:
            others = ", ".join(rep.name.split()[0] for rep in plan.alternatives)
            who = f". Best placed: {self.rep.name}" + (f"; also able to help: {others}" if others else "")
        reason = self.ctx.transfer_reason or "no reason given"
        self.enter(Status.REQUESTED, f"{self.request.bot.name} asked for a rep: {reason}{who}")
        if plan.enrichment is not None:
            self.enrichment = plan.enrichment
            self.ctx = plan.enrichment.context.model_copy(update={"transfer_id": self.tid})
            if derived := plan.enrichment.derived:
                self.log("enriched", "Completed the context package: " +
                         "; ".join(f"{d.field} from {d.source}" for d in derived),
                         data={"derived": [d.model_dump(mode="json") for d in derived]})
        if plan.account is not None:
            self.log("crm", f"CRM account {plan.account.account_id} found by {plan.account.matched_by}")
        if plan.account_owner is not None and self.routing.preferred_rep_id is None:
            self.routing = self.routing.model_copy(update={"preferred_rep_id": plan.account_owner.id})
            self.log("crm_owner", f"{plan.account_owner.name} owns the account in the CRM: preferred")
        if plan.crm_unavailable is not None:
            self.log("crm_unavailable", f"CRM unavailable ({plan.crm_unavailable}): the rep gets the package without "
                     "the account and its history", data={"reason": plan.crm_unavailable})

    def add_note(self, note: str) -> None:
        self.ctx.prospect_notes.append(note)
        self.log("note", f"The prospect added: {note}")
        if self.rep is not None and self.status in (Status.OFFERED, Status.CONNECTING, Status.CONNECTED):
            self.notify("rep", "note", {"note": note}, rep_id=self.rep.id)

    def note_delivery_failure(self, failure: DeliveryFailure) -> None:
        """A failed delivery joins the timeline. A rep alert has other ways to the rep: the console always shows it,
        and it goes on every other channel set up; an alert the app cannot even store sends the transfer to
        recovery (see the offer step)."""
        channel = _CHANNEL_NAMES[failure.channel]
        outcome = "given up" if failure.final else "retrying"
        still = "; the console still shows it" if failure.audience == "rep" else ""
        self.log(f"{failure.channel}_failed", f"{channel} could not deliver the {failure.notice} to the "
                 f"{failure.audience} ({failure.error}); {outcome}{still}", rep_id=failure.rep_id,
                 data=failure.model_dump(mode="json"))

    def mark_continued(self) -> None:
        if not self.continued:
            self.continued = True
            self.log("continuation", "The prospect replied to the rep")

    def announce_failure(self) -> None:
        """Recovery: the CRM and ops hear why, the rep gets the context, the prospect an apology."""
        self.step.note_in_crm(CrmNote(key=f"{self.tid}:failure:{len(self.step.timeline)}",
                                      prospect=self.ctx.prospect, kind="transfer_failed", text=self.failure))
        self.notify("ops", "transfer_failed", {"reason": self.failure})
        self.alert_rep("recovery")
        if self.live:
            self.say("failed", ["callback", "email"])

    def announce_outcome(self) -> None:
        self.step.note_in_crm(CrmNote(key=f"{self.tid}:outcome", prospect=self.ctx.prospect, kind="transfer_outcome",
                                      text=f"Warm transfer {self.tid} handled by {self.rep.name}: {self.outcome}"))
        self.notify("rep", "feedback_request", {"questions": _FEEDBACK_QUESTIONS}, rep_id=self.rep.id)
        self.notify("bot", "csat_request", {"scale": [1, 5]})

    def keep_feedback(self, feedback: RepFeedback | ProspectFeedback) -> None:
        data = feedback.model_dump(mode="json", by_alias=True, exclude={"rep_id"})
        self.feedback[feedback.source] = data
        self.step.keep_feedback(FeedbackRecord(source=feedback.source, rep_id=self.rep.id, data=data))
        self.log("feedback", f"Feedback from the {feedback.source}", data=data)

    def announce_follow_up(self, status: Status) -> None:
        """Everyone hears of the follow-up: the owner (alert and calendar task), the prospect (e-mail), the bot."""
        follow_up, owner = self.follow_up, self.follow_up.owner
        self.enter(status, f"{owner.name if owner else 'the first free rep'} follows up by {follow_up.channel} at "
                   f"{follow_up.due.isoformat()}", kind="follow_up", rep_id=owner.id if owner else None,
                   data={"channel": follow_up.channel, "due": follow_up.due.isoformat()})
        task = None
        if owner is not None:
            self.alert_rep("follow_up_scheduled", rep=owner)
            task = self._put_on_calendar(owner, FOLLOW_UP_KINDS[status])
        else:
            self.close_task(cancelled=True)
        if self.ctx.prospect.email:
            message = confirmation(self.ctx.prospect.name, owner.name if owner else None, follow_up.channel,
                                   follow_up.due)
            if task is not None and task.kind == "callback":  # an agreed call: the e-mail invites to it
                message["invitation_task"] = task.key
            self.notify("prospect", "confirmation", {**message, "to_name": self.ctx.prospect.name},
                        email_to=self.ctx.prospect.email)
        if self.live:
            self.say(self._confirmed_line(status), at=follow_up.due)
        self.live = False

    def _confirmed_line(self, status: Status) -> str:
        """The line that confirms the follow-up names the way the prospect chose (after hours, too)."""
        if status in _CONFIRMED_LINE:
            return _CONFIRMED_LINE[status]
        by_email = self.follow_up.channel == "email" and usable_email(self.ctx.prospect.email)
        return "email_confirmed" if by_email else "async_confirmed"

    def _put_on_calendar(self, owner: RepSummary, kind: FollowUpKind) -> OpenTask:
        """The follow-up on its owner's calendar: the open task moved, when it is this owner's and of this kind;
        otherwise a new one, and the open one called off."""
        if self.calendar_task is None or (self.calendar_task.rep_id, self.calendar_task.kind) != (owner.id, kind):
            self.close_task(cancelled=True)
            self.calendar_task = OpenTask(f"{self.tid}:task:{len(self.step.timeline)}", owner.id, kind)
        follow_up = self.follow_up
        self.step.schedule(TaskRequest(
            key=self.calendar_task.key, rep_id=owner.id, kind=kind, due_at=follow_up.due,
            title=task_title(self.ctx.prospect, self.tid),
            description=task_description(self.ctx, owner.locale, follow_up.channel, self.tid)))
        return self.calendar_task

    def close_task(self, cancelled: bool) -> None:
        """The open task, if any, is done (the follow-up reached the prospect) or called off."""
        if self.calendar_task is not None:
            self.step.close_task(TaskClose(key=self.calendar_task.key, cancelled=cancelled))
            self.calendar_task = None

    # ---- choices that need no outside answer -----------------------------------------------------

    def recover_because(self, reason: str, technical: bool = True) -> Status:
        self.failure, self.technical_failure = reason, technical
        return Status.RECOVERING

    def soonest_callback(self) -> datetime:
        return self.deadline_in(self.inp.timings.recovery_minutes * 60)

    def hold_queue_place(self, placed: Placed) -> None:
        self.queue = QueueInfo(position=placed.placement.position, eta_seconds=placed.eta_seconds or 0)

    def choose_follow_up(self, action: ProspectAction | None, default_due: datetime) -> Status:
        """The prospect's choice of callback or e-mail; with none, what we know of them decides."""
        if action is None:
            return self._follow_up_by(self._likely_channel(), default_due)
        if action.phone:
            self.ctx.prospect.phone = action.phone
        if action.email:
            self.ctx.prospect.email = action.email
        if action.action == "email":
            return self._follow_up_by("email", default_due)
        due = action.callback_at if action.callback_at and action.callback_at > self.clock() else default_due
        return self._follow_up_by("phone", due)

    def _follow_up_by(self, channel: FollowUpChannel, due: datetime) -> Status:
        self.follow_up = FollowUp(self.rep, due, channel)
        return Status.CALLBACK_SCHEDULED if channel == "phone" else Status.EMAIL_FOLLOW_UP

    def propose_follow_up(self, due: datetime) -> None:
        """The follow-up's time is known (the bot's line names it) before the prospect says how: the view shows it
        from now on."""
        self.follow_up = FollowUp(self.rep, due, self._likely_channel())

    def follow_up_at_next_opening(self) -> Status:
        """A follow-up found nobody on shift: wait for the owner's next opening."""
        self.propose_follow_up(self.plan.next_opening or self.deadline_in(LOOK_AGAIN_SECONDS))
        return Status.ASYNC_FOLLOW_UP

    def _likely_channel(self) -> FollowUpChannel:
        return "phone" if self.ctx.prospect.phone else "email"

    # ---- which actions it allows now -------------------------------------------------------------

    def visible_to(self, acting_key: str | None) -> bool:
        """Whether a bot key may see and act on this transfer: only the key that started it. None: a key not
        limited so (an admin's; the API limits rep keys to the transfers offered to them). A transfer started before
        owners were recorded has none, and stays open to every bot key, as it was."""
        return acting_key is None or self.inp.owner is None or acting_key == self.inp.owner

    def _check_owner(self, acting_key: str | None) -> None:
        if not self.visible_to(acting_key):
            raise NotTheOwner(f"no transfer {self.tid}")

    def check_prospect(self, action: ProspectAction) -> None:
        self._check_owner(action.acting_key)
        check_action(PROSPECT_ACTIONS, self.status, action.action)

    def check_rep(self, action: RepAction) -> None:
        # Whose it is comes first: a rep it is not offered to learns nothing of it, not even its state.
        owner = self.follow_up.owner if follow_up_owner_acts(self.status) and self.follow_up else self.rep
        if owner is None or action.rep_id != owner.id:
            raise NotTheOwner("this transfer is not yours to act on")
        check_action(REP_ACTIONS, self.status, action.action)
        # Sent in time is in time, however late a restarted worker or an outage lets the transfer see it; never later
        # than now (a clock ahead of the server's gains nothing).
        sent = min(action.sent_at, self.clock()) if action.sent_at else self.clock()
        if self.status == Status.OFFERED and self.offer_expires_at and sent >= self.offer_expires_at:
            raise ActionRefused("the offer has expired")
        if action.action == "defer" and action.defer_to == action.rep_id:
            raise ActionRefused("defer to a colleague, not to yourself")
        if action.action == "schedule_callback" and action.callback_at <= self.clock():
            raise ActionRefused("callback_at must be in the future")

    def check_feedback(self, feedback: RepFeedback | ProspectFeedback) -> None:
        if isinstance(feedback, ProspectFeedback):
            self._check_owner(feedback.acting_key)
        elif self.rep is None or feedback.rep_id != self.rep.id:
            raise NotTheOwner("only the rep who handled the transfer can give rep feedback")
        if self.status != Status.COMPLETED:
            raise ActionRefused(f"feedback is asked for once the transfer is completed; it is {self.status}")
        if feedback.source in self.feedback or any(
                item.payload.source == feedback.source for item in self.inbox.waiting("feedback")):
            raise ActionRefused(f"feedback from the {feedback.source} was already given")

    # Checked when an action arrives, not again when it is acted on (still_valid): an action accepted before these
    # checks existed is acted on as it was when its transfer replays.
    def check_new_prospect(self, action: ProspectAction) -> None:
        self.check_prospect(action)
        if action.action == "note":
            waiting = sum(item.payload.action == "note" for item in self.inbox.waiting("prospect"))
            if len(self.ctx.prospect_notes) + waiting >= PROSPECT_NOTES_MAX:
                raise ActionRefused(f"the rep already has {PROSPECT_NOTES_MAX} notes from the prospect; "
                                    "a further one would not be read")
        if action.action == "email" and not usable_email(action.email or self.ctx.prospect.email):
            raise ActionRefused("no address mail can be sent to is known: send the prospect's as 'email'")
        if action.action == "callback" and not (action.phone or self.ctx.prospect.phone):
            raise ActionRefused("no number to call back is known: send the prospect's as 'phone'")
        self._check_horizon(action.callback_at)

    def check_new_rep(self, action: RepAction) -> None:
        self.check_rep(action)
        self._check_horizon(action.callback_at)

    def _check_horizon(self, callback_at: datetime | None) -> None:
        if callback_at is not None and callback_at > self.clock() + CALLBACK_HORIZON:
            raise ActionRefused(f"callback_at is more than {CALLBACK_HORIZON.days} days away")

    def still_valid(self, item: PendingInput) -> bool:
        """Validators ran when the action arrived; check again now, since an earlier input or a timer
        may have moved the transfer on (the prospect left, the offer lapsed). A stale action is refused."""
        check = {"prospect": self.check_prospect, "rep": self.check_rep, "feedback": self.check_feedback}
        try:
            if item.source in check:
                check[item.source](item.payload)
        except ActionRefused as refusal:
            self.inbox.refuse(item, str(refusal))
            return False
        return True

    # ---- what others see -------------------------------------------------------------------------

    def as_view(self) -> TransferView:
        return TransferView(
            transfer_id=self.tid, status=self.status, branch=self.branch, rep=self.rep, queue=self.queue,
            follow_up_at=self.follow_up.due if self.follow_up else None, offer_expires_at=self.offer_expires_at,
            outcome=self.outcome, bot_lines=self.bot_lines, timeline=self.step.timeline,
            collect=self.enrichment.missing if self.enrichment else [])

    def facts(self) -> TransferFacts:
        """What the store keeps of the transfer for metrics and the console."""
        p, trigger = self.ctx.prospect, self.request.trigger
        return TransferFacts(
            transfer_id=self.tid, status=self.status, branch=self.branch, team=self.routing.team,
            rep_id=self.rep.id if self.rep else None, score=self.ctx.qualification.score, outcome=self.outcome,
            created_at=self.created_at,
            summary={"prospect": p.name, "company": p.company, "reason": self.ctx.transfer_reason,
                     "locale": self.request.bot.locale, "bot": self.request.bot.name, "continued": self.continued,
                     "category": trigger.category, "triggers": trigger.triggers})
