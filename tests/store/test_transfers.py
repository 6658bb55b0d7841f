"""Transfer records: facts upserted, events appended once per seq, first feedback wins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlmodel import select

from domain.records import TransferEvent, TransferFacts
from store.db import Database
from store.tables import FeedbackRow
from store.transfers import TransferStore
from tests.store.support import NOW, run_at_once

LATER = NOW + timedelta(minutes=5)


def facts(**fields) -> TransferFacts:
    return TransferFacts(**{"transfer_id": "t1", "status": "offered", "created_at": NOW, **fields})


def event(seq: int, detail: str = "", at: datetime = NOW) -> TransferEvent:
    return TransferEvent(seq=seq, at=at, status="offered", kind="state", detail=detail or f"step {seq}")


def test_record_appends_each_event_seq_once(db: Database) -> None:
    transfers = TransferStore(db)
    transfers.record(facts(), [event(1), event(2)], NOW)
    transfers.record(facts(), [event(2, "replayed"), event(3)], LATER)
    transfers.record(facts(), [], LATER)

    assert [(e.seq, e.detail) for e in transfers.events("t1")] == [(1, "step 1"), (2, "step 2"), (3, "step 3")]


def test_record_upserts_the_latest_facts_but_keeps_when_the_transfer_began(db: Database) -> None:
    transfers = TransferStore(db)
    transfers.record(facts(), [], NOW)
    transfers.record(facts(status="completed", rep_id="ana", outcome="demo_booked", summary={"csat": 5},
                           created_at=LATER), [], LATER)

    assert transfers.facts("t1") == facts(status="completed", rep_id="ana", outcome="demo_booked",
                                          summary={"csat": 5})
    assert transfers.facts("unknown") is None


def test_times_come_back_as_the_same_instant_in_utc(db: Database) -> None:
    transfers = TransferStore(db)
    shanghai = NOW.astimezone(timezone(timedelta(hours=8)))
    transfers.record(facts(created_at=shanghai), [event(1, at=shanghai)], NOW)

    (stored,) = transfers.events("t1")
    assert (stored.at, stored.at.tzinfo) == (NOW, UTC)
    assert transfers.facts("t1").created_at == NOW


def test_the_first_feedback_per_source_wins(db: Database) -> None:
    transfers = TransferStore(db)
    assert transfers.save_feedback("t1", "rep", "ana", {"context_helpful": True}, NOW)
    assert not transfers.save_feedback("t1", "rep", "ana", {"context_helpful": False}, LATER)
    assert transfers.save_feedback("t1", "prospect", None, {"csat": 4}, LATER)

    with db.session() as session:
        saved = {row.source: row.data for row in session.exec(select(FeedbackRow))}
    assert saved == {"rep": {"context_helpful": True}, "prospect": {"csat": 4}}


def test_racing_feedback_is_saved_once(db: Database) -> None:
    transfers = TransferStore(db)
    saved = run_at_once([lambda n=n: transfers.save_feedback("t1", "prospect", None, {"csat": n}, NOW)
                         for n in range(1, 6)])
    assert saved.count(True) == 1
