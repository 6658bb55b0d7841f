"""The watchdog's rules: which transfers are stuck past what their state allows, and what ops are told.

Pure: the store reads the records and Temporal's visibility names the workflows whose tasks keep failing; these
functions decide and word. Nothing here quotes a prospect: an alert carries transfer ids, states, rep ids and times.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from domain.lifecycle import FINAL_STATUSES
from domain.metrics import Promise, broken

Problem = Literal["task_failing", "queue_overdue", "promise_missed"]
FOLLOW_UP_NAMES = {"phone": "callback", "email": "e-mail follow-up"}
_TASK_FAILURE_PREFIXES = ("WorkflowTaskFailedCause", "WorkflowTaskTimedOut")


class StuckTransfer(BaseModel, frozen=True):
    transfer_id: str
    problem: Problem
    # When it went wrong: its failing task was first scheduled, its wait estimate ran out, a follow-up fell due.
    since: datetime
    detail: str


class QueueEstimate(BaseModel, frozen=True):
    """What a queued transfer was last told (its `queued` or `queue_moved` event): its place and wait, at `at`."""

    transfer_id: str
    team: str | None = None
    position: int
    eta_seconds: int
    at: datetime


class FailingTask(BaseModel, frozen=True):
    """A running transfer whose workflow task keeps failing, as Temporal reports it."""

    transfer_id: str
    reported: list[str]  # Temporal's TemporalReportedProblems, e.g. ["category=WorkflowTaskFailed", "cause=..."]
    attempt: int  # of its pending workflow task; 0 when none is pending at the moment
    since: datetime


class OpsAlert(BaseModel):
    subject: str
    body: str
    chat_text: str


def when(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC"


def queued_too_long(estimates: Iterable[QueueEstimate], now: datetime, grace: timedelta) -> list[StuckTransfer]:
    """Queued transfers still waiting `grace` after the wait they were last told ran out."""
    stuck = []
    for estimate in estimates:
        expected = estimate.at + timedelta(seconds=estimate.eta_seconds)
        if now >= expected + grace:
            team = f" of {estimate.team}" if estimate.team else ""
            stuck.append(StuckTransfer(
                transfer_id=estimate.transfer_id, problem="queue_overdue", since=expected,
                detail=f"queued at place {estimate.position}{team}, told at {when(estimate.at)} to wait about "
                       f"{max(1, round(estimate.eta_seconds / 60))} min; no rep yet"))
    return stuck


def promises_missed(promises: Iterable[Promise], now: datetime, grace: timedelta) -> list[StuckTransfer]:
    """Open transfers with a follow-up that nobody took over by `grace` after its due time (the earliest, per
    transfer): a rep taking the transfer over since keeps the promise, a transfer that ended has nothing to keep."""
    earliest: dict[str, Promise] = {}
    for promise in promises:
        if promise.status in FINAL_STATUSES or not broken(promise, now, grace):
            continue
        if promise.transfer_id not in earliest or promise.due < earliest[promise.transfer_id].due:
            earliest[promise.transfer_id] = promise
    return [StuckTransfer(transfer_id=p.transfer_id, problem="promise_missed", since=p.due,
                          detail=f"{FOLLOW_UP_NAMES.get(p.channel, 'follow-up')} due {when(p.due)} by "
                                 f"{p.owner or 'the first free rep'}, not taken over; the transfer is {p.status}")
            for p in earliest.values()]


def task_failing(failing: FailingTask) -> StuckTransfer:
    causes = [value.split("=", 1)[1] for value in failing.reported if value.startswith("cause=")]
    cause = ", ".join(_short_cause(c) for c in causes) or ", ".join(failing.reported) or "no cause reported"
    attempt = f", attempt {failing.attempt}" if failing.attempt else ""
    return StuckTransfer(transfer_id=failing.transfer_id, problem="task_failing", since=failing.since,
                         detail=f"its workflow task keeps failing ({cause}{attempt}): the transfer cannot move")


def _short_cause(cause: str) -> str:
    """WorkflowTaskFailedCauseNonDeterministicError -> NonDeterministicError."""
    for prefix in _TASK_FAILURE_PREFIXES:
        if cause.startswith(prefix) and len(cause) > len(prefix):
            return cause[len(prefix):]
    return cause


def ops_alert(stuck: Sequence[StuckTransfer], now: datetime, remind: timedelta) -> OpsAlert:
    """The alert listing `stuck` (one line per problem, grouped by transfer), as e-mail and as a chat post."""
    by_transfer: dict[str, list[StuckTransfer]] = {}
    for item in sorted(stuck, key=lambda s: (s.since, s.transfer_id)):
        by_transfer.setdefault(item.transfer_id, []).append(item)
    count = len(by_transfer)
    noun = "transfer" if count == 1 else "transfers"
    lines = [f"- {transfer_id}: " + "; ".join(f"{_PROBLEM_NAMES[s.problem]} since {when(s.since)}: {s.detail}"
                                             for s in items)
             for transfer_id, items in by_transfer.items()]
    hours = round(remind.total_seconds() / 3600)
    body = "\n".join([
        f"The watchdog found {count} {noun} stuck past what their state allows ({when(now)}):", "", *lines, "",
        "Find each in the Temporal UI by its workflow id (WorkflowId = '<transfer id>'). You will not hear of "
        f"the same transfer again for {hours} hours, while it stays stuck."])
    chat = "\n".join([f"Warm Transfer watchdog: {count} {noun} stuck", *lines])
    return OpsAlert(subject=f"Warm Transfer: {count} {noun} stuck", body=body + "\n", chat_text=chat)


_PROBLEM_NAMES: dict[Problem, str] = {"task_failing": "workflow task failing", "queue_overdue": "waiting past its "
                                      "estimate", "promise_missed": "follow-up missed"}
