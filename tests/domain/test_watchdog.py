"""The watchdog's rules: what counts as stuck, and what ops are told (ids, states and times, never a prospect)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.metrics import Promise
from domain.watchdog import (
    FailingTask,
    QueueEstimate,
    StuckTransfer,
    ops_alert,
    promises_missed,
    queued_too_long,
    task_failing,
)

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
GRACE = timedelta(minutes=15)


def test_a_queued_transfer_is_stuck_once_it_waits_the_grace_past_what_it_was_last_told():
    estimate = QueueEstimate(transfer_id="xfer_q", team="enterprise", position=3, eta_seconds=600, at=T0)
    assert queued_too_long([estimate], T0 + timedelta(minutes=24), GRACE) == []
    [stuck] = queued_too_long([estimate], T0 + timedelta(minutes=25), GRACE)
    assert stuck.problem == "queue_overdue" and stuck.since == T0 + timedelta(minutes=10)
    assert stuck.detail == ("queued at place 3 of enterprise, told at 2026-03-02 10:00 UTC to wait about 10 min; "
                            "no rep yet")


def _promise(tid: str, due_minutes: int, status: str = "callback_scheduled", taken_over: datetime | None = None,
             owner: str | None = "sarah") -> Promise:
    return Promise(transfer_id=tid, made_at=T0 - timedelta(hours=1), due=T0 + timedelta(minutes=due_minutes),
                   channel="phone", owner=owner, taken_over_at=taken_over, status=status)


def test_an_open_transfer_whose_follow_up_nobody_took_over_is_stuck_from_its_earliest_missed_due_time():
    now = T0 + timedelta(hours=2)
    promises = [_promise("xfer_a", 0), _promise("xfer_a", 60, status="async_follow_up"),  # missed, then re-promised
                _promise("xfer_kept", 0, taken_over=T0 + timedelta(minutes=5)),
                _promise("xfer_ended", 0, status="cancelled"),
                _promise("xfer_later", 110), _promise("xfer_b", 30, status="queued", owner=None)]
    stuck = {s.transfer_id: s for s in promises_missed(promises, now, GRACE)}
    assert set(stuck) == {"xfer_a", "xfer_b"}
    assert stuck["xfer_a"].since == T0 and stuck["xfer_a"].problem == "promise_missed"
    assert stuck["xfer_b"].detail == ("callback due 2026-03-02 10:30 UTC by the first free rep, not taken over; "
                                      "the transfer is queued")


def test_a_failing_workflow_task_is_named_by_its_cause():
    failing = FailingTask(transfer_id="xfer_f", attempt=7, since=T0, reported=[
        "category=WorkflowTaskFailed", "cause=WorkflowTaskFailedCauseNonDeterministicError"])
    stuck = task_failing(failing)
    assert stuck == StuckTransfer(transfer_id="xfer_f", problem="task_failing", since=T0, detail=(
        "its workflow task keeps failing (NonDeterministicError, attempt 7): the transfer cannot move"))
    timed_out = task_failing(FailingTask(transfer_id="xfer_t", attempt=0, since=T0,
                                         reported=["category=WorkflowTaskTimedOut"]))
    assert "(category=WorkflowTaskTimedOut)" in timed_out.detail


def test_the_alert_lists_each_transfer_once_with_all_its_problems():
    stuck = [StuckTransfer(transfer_id="xfer_b", problem="queue_overdue", since=T0, detail="queued"),
             StuckTransfer(transfer_id="xfer_a", problem="task_failing", since=T0 - timedelta(hours=1),
                           detail="failing"),
             StuckTransfer(transfer_id="xfer_b", problem="promise_missed", since=T0, detail="missed")]
    alert = ops_alert(stuck, T0 + timedelta(minutes=5), timedelta(hours=24))
    assert alert.subject == "Warm Transfer: 2 transfers stuck"
    lines = [line for line in alert.body.splitlines() if line.startswith("- ")]
    assert lines == ["- xfer_a: workflow task failing since 2026-03-02 09:00 UTC: failing",
                     "- xfer_b: waiting past its estimate since 2026-03-02 10:00 UTC: queued; follow-up missed since "
                     "2026-03-02 10:00 UTC: missed"]
    assert "again for 24 hours" in alert.body
    assert alert.chat_text.splitlines() == ["Warm Transfer watchdog: 2 transfers stuck", *lines]
