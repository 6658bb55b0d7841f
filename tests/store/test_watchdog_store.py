"""What the watchdog and the digest read (queue estimates, follow-up promises) and the watchdog's record of whom ops
heard of (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from domain.records import TransferEvent, TransferFacts
from store.db import Database
from store.metrics import MetricsStore
from store.transfers import TransferStore
from store.watchdog import WatchdogStore
from tests.store.support import NOW


def _record(db: Database, tid: str, status: str, events: list[tuple[str, int, dict]], rep_id: str | None = None,
            updated: int = 0) -> None:
    """A transfer whose events are (kind, minutes after NOW, data), recorded as last updated `updated` minutes
    after NOW."""
    rows = [TransferEvent(seq=i, at=NOW + timedelta(minutes=m), status=status, kind=kind, rep_id=rep_id,
                          detail=kind, data=data) for i, (kind, m, data) in enumerate(events, start=1)]
    TransferStore(db).record(TransferFacts(transfer_id=tid, status=status, team="enterprise", created_at=NOW),
                             rows, NOW + timedelta(minutes=updated))


def test_each_queued_transfer_is_read_with_the_last_estimate_it_was_given(db):
    _record(db, "waiting", "queued", [("requested", 0, {}), ("queued", 1, {"position": 4, "eta_seconds": 900}),
                                      ("queue_moved", 5, {"position": 2, "eta_seconds": 400})])
    _record(db, "seated", "offered", [("queued", 1, {"position": 1, "eta_seconds": 60}), ("offered", 2, {})])
    [estimate] = WatchdogStore(db).queue_estimates()
    assert (estimate.transfer_id, estimate.team, estimate.position, estimate.eta_seconds, estimate.at) == (
        "waiting", "enterprise", 2, 400, NOW + timedelta(minutes=5))


def test_promises_are_read_with_when_a_rep_took_over_after_each(db):
    due = (NOW + timedelta(hours=1)).isoformat()
    _record(db, "open", "callback_scheduled", [("follow_up", 0, {"channel": "phone", "due": due})], rep_id="sarah")
    _record(db, "kept", "completed", [("connected", 0, {}), ("follow_up", 10, {"channel": "email", "due": due}),
                                      ("connected", 70, {})], rep_id="alex", updated=90)
    _record(db, "old", "completed", [("follow_up", 0, {"channel": "phone", "due": due})], updated=-60)
    metrics = MetricsStore(db)

    promises = {p.transfer_id: p for p in metrics.promises(touched_since=NOW)}
    assert set(promises) == {"open", "kept"}  # "old" ended before the window
    assert promises["open"].owner == "sarah" and promises["open"].taken_over_at is None
    assert promises["open"].due == NOW + timedelta(hours=1) and promises["open"].status == "callback_scheduled"
    assert promises["kept"].taken_over_at == NOW + timedelta(minutes=70)  # not the take-over before the promise
    assert promises["kept"].channel == "email"
    assert [p.transfer_id for p in metrics.promises()] == ["open"]  # without a window: open transfers only


def test_ops_hear_of_a_transfer_once_per_reminder_period_and_a_retried_claim_answers_the_same(db):
    store, quiet = WatchdogStore(db), timedelta(hours=24)
    assert store.claim_alerts(["a", "b"], NOW, quiet) == ["a", "b"]
    assert store.claim_alerts(["a", "b"], NOW, quiet) == ["a", "b"]  # the same look, retried
    later = NOW + timedelta(minutes=5)
    assert store.claim_alerts(["b", "c"], later, quiet) == ["c"]
    assert store.claim_alerts(["a", "b", "c"], NOW + quiet, quiet) == ["a", "b"]  # reminded; c was told later
