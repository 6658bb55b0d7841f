"""Transfer records: the latest facts per transfer and the append-only event log metrics are computed from."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from domain.records import TransferEvent, TransferFacts
from store.db import Database
from store.portable import insert_ignoring_conflicts, upsert
from store.tables import FeedbackRow, TransferEventRow, TransferRow


class TransferStore:
    def __init__(self, db: Database):
        self.db = db

    def record(self, facts: TransferFacts, events: list[TransferEvent], now: datetime) -> None:
        """Upsert the facts and append events in one transaction; an event seq seen before is skipped."""
        values = facts.model_dump()
        with self.db.session() as session:
            # An upsert: a retried or racing record never trips the primary key.
            upsert(session, TransferRow.__table__, {**values, "updated_at": now}, ["transfer_id"], keep=["created_at"])
            rows = [{"transfer_id": facts.transfer_id, **event.model_dump()} for event in events]
            insert_ignoring_conflicts(session, TransferEventRow.__table__, rows, ["transfer_id", "seq"])

    def facts(self, transfer_id: str) -> TransferFacts | None:
        with self.db.read() as session:
            row = session.get(TransferRow, transfer_id)
            return TransferFacts.model_validate(row, from_attributes=True) if row else None

    def events(self, transfer_id: str) -> list[TransferEvent]:
        with self.db.read() as session:
            rows = session.exec(select(TransferEventRow).where(TransferEventRow.transfer_id == transfer_id)
                                .order_by(TransferEventRow.seq)).all()
            return [TransferEvent.model_validate(r, from_attributes=True) for r in rows]

    def save_feedback(self, transfer_id: str, source: str, rep_id: str | None, data: dict, now: datetime) -> bool:
        """Keep the first answer per source; a repeat is not an error, it is ignored (returns False)."""
        row = {"transfer_id": transfer_id, "source": source, "rep_id": rep_id, "data": data, "at": now}
        with self.db.session() as session:
            return insert_ignoring_conflicts(session, FeedbackRow.__table__, [row], ["transfer_id", "source"]) == 1
