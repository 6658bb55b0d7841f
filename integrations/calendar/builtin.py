"""The embedded calendar: tasks in the app database, published to reps as an ICS feed (see ics.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select, update

from integrations.calendar.base import Calendar, CalendarTask, TaskNotFound
from store.calendar import CalendarTaskRow
from store.db import Database
from store.portable import insert_ignoring_conflicts


class BuiltinCalendar(Calendar):
    def __init__(self, db: Database):
        self.db = db

    def create_task(
        self, key: str, rep_id: str, transfer_id: str, due_at: datetime, title: str, description: str
    ) -> CalendarTask:
        if due_at.tzinfo is None:
            raise ValueError("due_at must be timezone-aware")
        row = {
            "key": key,
            "rep_id": rep_id,
            "transfer_id": transfer_id,
            "due_at": due_at,
            "title": title,
            "description": description,
            "done": False,
            "created_at": datetime.now(UTC),
        }
        with self.db.session() as session:
            insert_ignoring_conflicts(session, CalendarTaskRow.__table__, [row], ["key"])
            return _by_key(session, key)

    def complete(self, key: str) -> CalendarTask:
        with self.db.session() as session:
            session.exec(
                update(CalendarTaskRow)
                .where(CalendarTaskRow.key == key, CalendarTaskRow.done.is_(False))
                .values(done=True, completed_at=datetime.now(UTC))
            )
            return _by_key(session, key)

    def tasks_for(self, rep_id: str, include_done: bool = False) -> list[CalendarTask]:
        query = select(CalendarTaskRow).where(CalendarTaskRow.rep_id == rep_id)
        if not include_done:
            query = query.where(CalendarTaskRow.done.is_(False))
        with self.db.read() as session:
            rows = session.exec(query.order_by(CalendarTaskRow.due_at, CalendarTaskRow.id))
            return [CalendarTask.model_validate(row, from_attributes=True) for row in rows]


def _by_key(session: Session, key: str) -> CalendarTask:
    row = session.exec(select(CalendarTaskRow).where(CalendarTaskRow.key == key)).first()
    if row is None:
        raise TaskNotFound(key)
    return CalendarTask.model_validate(row, from_attributes=True)
