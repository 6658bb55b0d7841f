"""The metrics store reads a window of transfers with their events, feedback and usage (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from domain.metrics import metrics
from domain.records import TransferEvent, TransferFacts
from domain.requests import Routing
from store.capacity import CapacityStore
from store.db import Database
from store.metrics import MetricsStore, Scope
from store.transfers import TransferStore
from store.usage import UsageStore
from tests.store.support import NOW

DAY = Scope(start=NOW, end=NOW + timedelta(days=1))


def _record(transfers: TransferStore, tid: str, kinds: list[str], created=NOW, **facts) -> None:
    events = [TransferEvent(seq=i, at=created + timedelta(seconds=10 * i), status="x", kind=kind,
                            rep_id=facts.get("rep_id"), detail=kind, data={})
              for i, kind in enumerate(kinds, start=1)]
    transfers.record(TransferFacts(transfer_id=tid, created_at=created, **facts), events, created)


def _seed(db: Database) -> None:
    transfers = TransferStore(db)
    _record(transfers, "won", ["requested", "offered", "accepted", "connected", "continuation", "outcome"],
            status="completed", branch="immediate", team="enterprise", rep_id="sarah", outcome="demo_booked",
            summary={"category": "positive"})
    _record(transfers, "left", ["requested", "declined_note", "cancelled"], created=NOW + timedelta(hours=1),
            status="cancelled", branch="cancelled", team="smb", summary={"category": "rescue"})
    _record(transfers, "yesterday", ["requested", "accepted", "connected"], created=NOW - timedelta(hours=1),
            status="connected", team="enterprise", rep_id="sarah")
    transfers.save_feedback("won", "prospect", None, {"csat": 4, "comment": "Smooth"}, NOW)
    transfers.save_feedback("won", "rep", "sarah", {"context_helpful": False, "missing": ["budget"],
                                                    "prospect_repeated": True, "improve": "Budget please"}, NOW)
    transfers.save_feedback("yesterday", "prospect", None, {"csat": 1}, NOW)
    usage = UsageStore(db)
    usage.record("won", "sarah", "summary_seen", NOW)
    usage.record("won", "sarah", "checklist:0", NOW)
    usage.record("yesterday", "sarah", "summary_seen", NOW)


def test_a_window_reads_its_transfers_with_events_usage_and_csat(db: Database) -> None:
    _seed(db)
    records = MetricsStore(db).transfers(DAY)
    assert [r.transfer_id for r in records] == ["won", "left"]
    won = records[0]
    assert [e.kind for e in won.events] == ["requested", "offered", "accepted", "connected", "continuation",
                                            "outcome"]
    # Only the kinds the formulas read: not "declined_note"; "cancelled" tells an open offer was withdrawn.
    assert [e.kind for e in records[1].events] == ["requested", "cancelled"]
    assert won.csat == 4 and won.category == "positive" and won.opened == {("sarah", "summary_seen"),
                                                                             ("sarah", "checklist:0")}
    figures = metrics(records)
    assert figures.completion.value == 0.5 and figures.conversion.value == 1 and figures.pickup.p50_seconds == 20
    assert figures.context_utilisation.items["checklist"].value == 1
    assert figures.by_category == {"positive": 1, "rescue": 1}


def test_team_and_rep_filters(db: Database) -> None:
    _seed(db)
    store = MetricsStore(db)
    wide = Scope(start=NOW - timedelta(days=1), end=NOW + timedelta(days=1))
    assert {r.transfer_id for r in store.transfers(replace(wide, team="enterprise"))} == {
        "won", "yesterday"}
    assert [r.transfer_id for r in store.transfers(replace(DAY, rep="sarah"))] == ["won"]
    assert store.transfers(replace(DAY, team="nobody")) == []


def test_feedback_of_the_window(db: Database) -> None:
    _seed(db)
    reps, prospects = MetricsStore(db).feedback(DAY)
    assert [(r.transfer_id, r.missing, r.prospect_repeated, r.improve) for r in reps] == [
        ("won", ("budget",), True, "Budget please")]
    assert [(p.transfer_id, p.csat, p.comment) for p in prospects] == [("won", 4, "Smooth")]


def test_live_queue_per_team_in_serving_order(db: Database) -> None:
    capacity = CapacityStore(db)
    TransferStore(db).record(TransferFacts(transfer_id="q2", status="queued", created_at=NOW,
                                           summary={"prospect": "Ann", "company": "Acme"}), [], NOW)
    capacity.place("q1", Routing(team="smb"), NOW)  # nobody on shift: everyone waits
    capacity.place("q2", Routing(team="enterprise"), NOW + timedelta(seconds=1))
    capacity.place("q3", Routing(team="enterprise", priority=5), NOW + timedelta(seconds=2))
    queue = MetricsStore(db).queue()
    assert [(t.team, [(w.transfer_id, w.position) for w in t.waiting]) for t in queue] == [
        ("enterprise", [("q3", 1), ("q2", 2)]), ("smb", [("q1", 1)])]
    q2 = queue[0].waiting[1]
    assert (q2.prospect, q2.company, q2.since) == ("Ann", "Acme", NOW + timedelta(seconds=1))
    assert [t.team for t in MetricsStore(db).queue("smb")] == ["smb"]
