"""The transfer's deterministic core on its own, with a clock of the test's: what it says, records and allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from activities.models import Plan, TaskClose
from domain.context import PROSPECT_NOTES_MAX
from domain.lifecycle import ActionRefused, Branch, NotTheOwner, Status
from domain.requests import CALLBACK_HORIZON, ProspectAction, ProspectFeedback, RepAction, RepFeedback, TransferRequest
from domain.view import RepSummary
from workflows.inbox import PendingInput
from workflows.models import TransferInput
from workflows.state import FollowUp, TransferState
from workflows.transfer import TransferWorkflow

NOW = datetime(2026, 12, 7, 15, tzinfo=UTC)
SARAH = RepSummary(id="sarah", name="Sarah Chen", locale="en")
ALEX = RepSummary(id="alex", name="Alex Kim", locale="zh-CN")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def transfer(prospect: dict | None = None, owner: str | None = None, **request) -> TransferState:
    body = {"context": {"prospect": prospect or {"name": "Dana Lee", "email": "dana@northwind.io"}},
            "bot": {"name": "Ava", "callback_url": "https://bot.example.com/hook"}, **request}
    return TransferState(TransferInput(request=TransferRequest.model_validate(body), owner=owner), "xfer_1", Clock())


def batch(state: TransferState):
    return state.step.take(state.clock(), state.facts(), release=False)


def test_the_opening_names_the_best_rep_and_who_else_could_help():
    state = transfer()
    state.adopt(Plan(best=SARAH, alternatives=[ALEX], on_shift=True))
    assert state.rep == SARAH and state.status == Status.REQUESTED
    assert state.step.timeline[0].detail == ("Ava asked for a rep: no reason given. Best placed: Sarah Chen; "
                                             "also able to help: Alex")
    [status] = batch(state).notices
    assert status.payload["status"] == "requested" and status.callback_url == "https://bot.example.com/hook"


@pytest.mark.parametrize(("by_language", "label"), [(True, "en"), (False, "fr")])
def test_a_bots_line_is_labelled_with_its_language_unless_the_transfer_began_before_that(by_language, label):
    request = TransferRequest.model_validate({"context": {"prospect": {"name": "Dana Lee"}},
                                              "bot": {"name": "Ava", "locale": "fr"}})
    state = TransferState(TransferInput(request=request), "xfer_1", Clock(), label_lines_by_language=by_language)
    state.adopt(Plan(best=SARAH, on_shift=True))
    state.say("prepare")
    line = state.bot_lines[-1]
    assert line.locale == label and "Sarah" in line.text  # English lines: there are no French ones


def test_entering_a_state_sets_its_branch_and_tells_the_bot():
    state = transfer()
    state.adopt(Plan(best=SARAH, on_shift=True))
    state.enter(Status.OFFERED, "Offered to Sarah")
    assert state.branch == Branch.IMMEDIATE
    state.enter(Status.QUEUED, "In queue")
    assert state.branch == Branch.QUEUED
    assert [n.payload["status"] for n in batch(state).notices] == ["requested", "offered", "queued"]


def test_only_the_key_that_started_a_transfer_sees_it_and_acts_for_the_prospect():
    state = transfer(owner="api-key:1")
    state.adopt(Plan(best=SARAH, on_shift=True))
    state.enter(Status.PREPARING, "Introducing Sarah")
    assert state.visible_to("api-key:1") and state.visible_to(None)  # its key; a key not limited (an admin's)
    assert not state.visible_to("api-key:2")
    state.check_prospect(ProspectAction(action="proceed", acting_key="api-key:1"))
    with pytest.raises(NotTheOwner):  # before anything about its state is told
        state.check_prospect(ProspectAction(action="wait", acting_key="api-key:2"))
    state.enter(Status.COMPLETED, "Done")
    with pytest.raises(NotTheOwner):
        state.check_feedback(ProspectFeedback.model_validate({"from": "prospect", "csat": 5,
                                                              "acting_key": "api-key:2"}))

    started_before_owners = transfer()  # its history has no owner: every bot key, as before
    assert started_before_owners.visible_to("api-key:2")


def test_only_the_offered_rep_acts_and_not_after_the_offer_expires():
    state = transfer()
    state.adopt(Plan(best=SARAH, on_shift=True))
    state.enter(Status.OFFERED, "Offered")
    state.offer_expires_at = NOW + timedelta(seconds=30)
    state.check_rep(RepAction(action="accept", rep_id="sarah"))
    for not_offered_it in ("accept", "ack"):  # another rep learns nothing, not even which actions the state allows
        with pytest.raises(NotTheOwner, match="not yours"):
            state.check_rep(RepAction(action=not_offered_it, rep_id="alex"))
    with pytest.raises(ActionRefused, match="not possible while the transfer is offered"):
        state.check_rep(RepAction(action="ack", rep_id="sarah"))
    with pytest.raises(ActionRefused, match="not to yourself"):
        state.check_rep(RepAction(action="defer", rep_id="sarah", defer_to="sarah"))
    with pytest.raises(ActionRefused, match="in the future"):
        state.check_rep(RepAction(action="schedule_callback", rep_id="sarah", callback_at=NOW))
    state.clock.now = NOW + timedelta(seconds=30)
    with pytest.raises(ActionRefused, match="expired"):
        state.check_rep(RepAction(action="accept", rep_id="sarah"))


def test_a_follow_up_is_acted_on_by_its_owner():
    state = transfer()
    state.adopt(Plan(best=SARAH, on_shift=True))
    state.follow_up = FollowUp(ALEX, NOW + timedelta(hours=1), "phone")
    state.enter(Status.CALLBACK_SCHEDULED, "Alex calls back")
    state.check_rep(RepAction(action="ack", rep_id="alex"))
    with pytest.raises(ActionRefused, match="not yours"):
        state.check_rep(RepAction(action="ack", rep_id="sarah"))


def test_feedback_comes_once_per_side_after_the_outcome_and_rep_feedback_from_the_rep_who_handled_it():
    state = transfer()
    state.adopt(Plan(best=SARAH, on_shift=True))
    csat = ProspectFeedback.model_validate({"from": "prospect", "csat": 4})
    with pytest.raises(ActionRefused, match="once the transfer is completed"):
        state.check_feedback(csat)
    state.enter(Status.COMPLETED, "Outcome: converted")
    state.check_feedback(csat)
    state.inbox.put("feedback", csat)
    with pytest.raises(ActionRefused, match="already given"):  # one is waiting to be acted on
        state.check_feedback(csat)
    rep_feedback = {"from": "rep", "context_helpful": True, "prospect_repeated": False}
    with pytest.raises(NotTheOwner, match="only the rep who handled"):
        state.check_feedback(RepFeedback.model_validate({**rep_feedback, "rep_id": "alex"}))
    state.keep_feedback(RepFeedback.model_validate({**rep_feedback, "rep_id": "sarah"}))
    with pytest.raises(ActionRefused, match="already given"):
        state.check_feedback(RepFeedback.model_validate({**rep_feedback, "rep_id": "sarah"}))
    assert state.feedback["rep"] == {"from": "rep", "context_helpful": True, "missing": [],
                                     "prospect_repeated": False, "improve": None}


def test_a_note_past_the_briefs_limit_and_a_callback_over_a_year_away_are_refused_when_they_arrive():
    state = transfer()
    state.adopt(Plan(best=SARAH, on_shift=True))
    state.enter(Status.OFFERED, "Offered")
    note = ProspectAction(action="note", note="One more thing")
    for _ in range(PROSPECT_NOTES_MAX - 1):
        state.check_new_prospect(note)
        state.add_note(note.note)
    state.check_new_prospect(note)
    state.inbox.put("prospect", note)  # the 20th, waiting to be acted on
    with pytest.raises(ActionRefused, match="already has 20 notes"):
        state.check_new_prospect(note)

    far = NOW + CALLBACK_HORIZON + timedelta(minutes=1)
    with pytest.raises(ActionRefused, match="more than 365 days away"):
        state.check_new_rep(RepAction(action="schedule_callback", rep_id="sarah", callback_at=far))
    state.check_new_rep(RepAction(action="schedule_callback", rep_id="sarah", callback_at=far - timedelta(hours=1)))
    # Acted on as they were when they arrived: a transfer that took one before these checks replays the same.
    assert state.still_valid(PendingInput(1, "rep", RepAction(action="schedule_callback", rep_id="sarah",
                                                                callback_at=far)))
    state.enter(Status.QUEUED, "In queue")
    with pytest.raises(ActionRefused, match="more than 365 days away"):
        state.check_new_prospect(ProspectAction(action="callback", callback_at=far, phone="+1 555 0100"))


def test_a_follow_up_is_refused_when_nothing_to_reach_the_prospect_by_is_known():
    state = transfer({"name": "Dana", "email": "dana@northwind"})  # a typo: no mail can be sent to it
    state.adopt(Plan(best=SARAH, on_shift=True))
    state.enter(Status.QUEUED, "In queue")
    with pytest.raises(ActionRefused, match="no address mail can be sent to"):
        state.check_new_prospect(ProspectAction(action="email"))
    with pytest.raises(ActionRefused, match="no number to call back"):
        state.check_new_prospect(ProspectAction(action="callback"))
    state.check_new_prospect(ProspectAction(action="email", email="dana@northwind.io"))
    state.check_new_prospect(ProspectAction(action="callback", phone="+1 555 0100"))


def test_a_stale_action_is_refused_with_its_reason():
    state = transfer()
    state.adopt(Plan(best=SARAH, on_shift=True))
    state.enter(Status.CONNECTED, "Sarah took over")
    ticket = state.inbox.put("prospect", ProspectAction(action="proceed"))
    assert not state.still_valid(state.inbox.take())
    assert "not possible while the transfer is connected" in state.inbox.answer(ticket)
    state.inbox.put("queue", None)
    assert state.still_valid(state.inbox.take())  # queue news is never stale


@pytest.mark.parametrize(("prospect", "action", "status", "channel", "due"), [
    ({"name": "Dana", "phone": "+1 555 0100"}, None, Status.CALLBACK_SCHEDULED, "phone", NOW + timedelta(minutes=15)),
    ({"name": "Dana"}, None, Status.EMAIL_FOLLOW_UP, "email", NOW + timedelta(minutes=15)),
    ({"name": "Dana"}, {"action": "email", "email": "dana@x.io"}, Status.EMAIL_FOLLOW_UP, "email",
     NOW + timedelta(minutes=15)),
    ({"name": "Dana"}, {"action": "callback", "phone": "+1 555 0100", "callback_at": "2026-12-08T09:00:00+00:00"},
     Status.CALLBACK_SCHEDULED, "phone", datetime(2026, 12, 8, 9, tzinfo=UTC)),
    ({"name": "Dana"}, {"action": "callback", "callback_at": "2026-12-07T14:00:00+00:00"},  # in the past
     Status.CALLBACK_SCHEDULED, "phone", NOW + timedelta(minutes=15)),
])
def test_the_follow_up_the_prospect_chose_or_what_we_know_of_them(prospect, action, status, channel, due):
    state = transfer(prospect)
    state.adopt(Plan(best=SARAH, on_shift=True))
    choice = ProspectAction.model_validate(action) if action else None
    assert state.choose_follow_up(choice, state.soonest_callback()) == status
    assert (state.follow_up.owner, state.follow_up.channel, state.follow_up.due) == (SARAH, channel, due)
    if action and action.get("email"):
        assert state.ctx.prospect.email == action["email"]


def test_a_follow_up_is_announced_to_the_owner_the_prospect_and_the_bot_once():
    state = transfer()
    state.adopt(Plan(best=SARAH, on_shift=True))
    batch(state)
    state.follow_up = FollowUp(ALEX, NOW + timedelta(hours=2), "email")
    state.announce_follow_up(Status.EMAIL_FOLLOW_UP)
    assert not state.live and state.branch == Branch.EMAIL
    published = batch(state)
    assert [(n.audience, n.kind) for n in published.notices] == [
        ("bot", "status"), ("rep", "follow_up_scheduled"), ("prospect", "confirmation"), ("bot", "bot_line")]
    assert published.notices[2].email_to == "dana@northwind.io"
    assert "Alex Kim will e-mail you at 2026-12-07 17:00 UTC" in published.notices[2].payload["body"]
    [task] = published.tasks
    assert task.rep_id == "alex" and task.title == "Follow up: Dana Lee"
    state.announce_follow_up(Status.EMAIL_FOLLOW_UP)  # no longer live: the bot has nothing more to say
    assert [n.kind for n in batch(state).notices] == ["status", "follow_up_scheduled", "confirmation"]


@pytest.mark.parametrize(("channel", "line"), [("email", "Done: Alex Kim will follow up at dana@northwind.io"),
                                               ("phone", "will get in touch today at 5:00 PM (UTC) at +1 555 0100")])
def test_after_hours_the_confirmation_names_the_way_the_prospect_chose(channel, line):
    state = transfer({"name": "Dana Lee", "email": "dana@northwind.io", "phone": "+1 555 0100"})
    state.adopt(Plan(best=ALEX.model_copy(update={"locale": "en"}), on_shift=False))
    state.follow_up = FollowUp(ALEX, NOW + timedelta(hours=2), channel)
    state.announce_follow_up(Status.ASYNC_FOLLOW_UP)
    assert line in state.bot_lines[-1].text


def test_a_follow_up_keeps_one_task_moved_while_owner_and_kind_stay_and_closed_once():
    state = transfer()
    state.adopt(Plan(best=SARAH, on_shift=True))
    batch(state)

    def announce(owner: RepSummary, hours: int, channel: str, status: Status):
        state.follow_up = FollowUp(owner, NOW + timedelta(hours=hours), channel)
        state.announce_follow_up(status)
        return batch(state)

    first = announce(SARAH, 2, "phone", Status.CALLBACK_SCHEDULED)
    [callback] = first.tasks
    assert (callback.rep_id, callback.kind, first.task_closes) == ("sarah", "callback", [])
    confirmation = next(n for n in first.notices if n.kind == "confirmation")
    assert confirmation.payload["invitation_task"] == callback.key and confirmation.payload["to_name"] == "Dana Lee"

    moved = announce(SARAH, 24, "phone", Status.CALLBACK_SCHEDULED)  # she moves her callback
    assert [(t.key, t.due_at) for t in moved.tasks] == [(callback.key, NOW + timedelta(hours=24))]
    assert moved.task_closes == []

    handed_on = announce(ALEX, 25, "phone", Status.CALLBACK_SCHEDULED)  # a colleague's now: hers is called off
    [alex_call] = handed_on.tasks
    assert alex_call.rep_id == "alex" and alex_call.key != callback.key
    assert handed_on.task_closes == [TaskClose(key=callback.key, cancelled=True)]

    by_email = announce(ALEX, 26, "email", Status.EMAIL_FOLLOW_UP)  # another kind: another task, and no invitation
    [email_task] = by_email.tasks
    assert email_task.kind == "email" and email_task.key != alex_call.key
    assert by_email.task_closes == [TaskClose(key=alex_call.key, cancelled=True)]
    assert "invitation_task" not in next(n for n in by_email.notices if n.kind == "confirmation").payload

    state.close_task(cancelled=False)  # it reached the prospect
    state.close_task(cancelled=True)
    assert batch(state).task_closes == [TaskClose(key=email_task.key, cancelled=False)]


def test_the_workflow_overrides_no_part_of_its_state_but_entering_a_state():
    shadowed = {name for name in vars(TransferWorkflow) if name in dir(TransferState) and not name.startswith("__")}
    assert shadowed == {"enter"}


def test_the_view_gives_a_callback_time_in_utc_whatever_offset_it_was_asked_in():
    state = transfer(prospect={"name": "Dana Lee", "phone": "+1 555 0100"})
    state.adopt(Plan(best=SARAH, on_shift=True))
    asked = (NOW + timedelta(days=1)).astimezone(timezone(timedelta(hours=8)))
    state.choose_follow_up(ProspectAction(action="callback", callback_at=asked), NOW)
    shown = state.as_view().model_dump(mode="json")["follow_up_at"]
    assert shown.endswith("Z") or shown.endswith("+00:00")
    assert datetime.fromisoformat(shown) == asked
