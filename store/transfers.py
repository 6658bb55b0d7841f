"""Transfer records: the latest facts per transfer and the append-only event log metrics are computed from."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import select

from store.db import Database
from store.tables import FeedbackRow, TransferEventRow, TransferRow


class TransferFacts(BaseModel):
    transfer_id: str
    status: str
    branch: str | None = None
    team: str | None = None
    rep_id: str | None = None
    score: int | None = None
    outcome: str | None = None
    created_at: datetime
    summary: dict = {}


class TransferEvent(BaseModel):
    seq: int
    at: datetime
    status: str
    kind: str
    rep_id: str | None = None
    detail: str
    data: dict = {}


class TransferStore:
    def __init__(self, db: Database):
        self.db = db

    def record(self, facts: TransferFacts, events: list[TransferEvent], now: datetime) -> None:
        """Upsert the facts and append events in one transaction; an event seq seen before is skipped."""
        insert = postgresql.insert if not self.db.is_sqlite else sqlite.insert
        with self.db.session() as session:
            row = session.get(TransferRow, facts.transfer_id)
            values = facts.model_dump()
            if row is None:
                session.add(TransferRow(**values, updated_at=now))
            else:
                for name, value in values.items():
                    if name != "created_at":
                        setattr(row, name, value)
                row.updated_at = now
                session.add(row)
            if events:
                rows = [{"transfer_id": facts.transfer_id, **e.model_dump()} for e in events]
                statement = insert(TransferEventRow).values(rows).on_conflict_do_nothing(
                    index_elements=["transfer_id", "seq"])
                session.exec(statement)

    def facts(self, transfer_id: str) -> TransferFacts | None:
        with self.db.session() as session:
            row = session.get(TransferRow, transfer_id)
            return TransferFacts.model_validate(row, from_attributes=True) if row else None

    def events(self, transfer_id: str) -> list[TransferEvent]:
        with self.db.session() as session:
            rows = session.exec(select(TransferEventRow).where(TransferEventRow.transfer_id == transfer_id)
                                .order_by(TransferEventRow.seq)).all()
            return [TransferEvent.model_validate(r, from_attributes=True) for r in rows]

    def save_feedback(self, transfer_id: str, source: str, rep_id: str | None, data: dict, now: datetime) -> bool:
        """Keep the first answer per source; a repeat is not an error, it is ignored (returns False)."""
        with self.db.session() as session:
            exists = session.exec(select(FeedbackRow).where(FeedbackRow.transfer_id == transfer_id,
                                                            FeedbackRow.source == source)).first()
            if exists is not None:
                return False
            session.add(FeedbackRow(transfer_id=transfer_id, source=source, rep_id=rep_id, data=data, at=now))
            return True
