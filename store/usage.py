"""What reps actually opened in the console (summary seen, transcript expanded, ...): measured, not guessed."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel, select

from store.db import Database
from store.portable import UtcDateTime, insert_ignoring_conflicts


class UsageRow(SQLModel, table=True):
    __tablename__ = "rep_usage"
    __table_args__ = (UniqueConstraint("transfer_id", "rep_id", "item"),)
    id: int | None = Field(default=None, primary_key=True)
    transfer_id: str = Field(index=True, max_length=100)
    rep_id: str = Field(max_length=64)
    item: str = Field(max_length=80)  # e.g. summary_seen, transcript_expanded, checklist:2, opener_copied
    at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False, index=True))


class Usage(BaseModel):
    transfer_id: str
    rep_id: str
    item: str
    at: datetime


class UsageStore:
    def __init__(self, db: Database):
        self.db = db

    def record(self, transfer_id: str, rep_id: str, item: str, at: datetime) -> bool:
        """The first time counts; a repeat (a second click, a retried request) is ignored (returns False)."""
        row = {"transfer_id": transfer_id, "rep_id": rep_id, "item": item, "at": at}
        with self.db.session() as session:
            return insert_ignoring_conflicts(session, UsageRow.__table__, [row], ["transfer_id", "rep_id", "item"]) == 1

    def between(self, start: datetime | None = None, end: datetime | None = None) -> list[Usage]:
        query = select(UsageRow).order_by(UsageRow.id)
        if start is not None:
            query = query.where(UsageRow.at >= start)
        if end is not None:
            query = query.where(UsageRow.at < end)
        with self.db.read() as session:
            return [Usage.model_validate(row, from_attributes=True) for row in session.exec(query)]
