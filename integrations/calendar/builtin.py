"""The embedded calendar: tasks in the app database, published to reps as an ICS feed (see ics.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from domain.lifecycle import FollowUpKind
from integrations.calendar.base import Calendar, CalendarTask, TaskNotFound
from store.calendar import CalendarTaskRow
from store.db import Database
from store.portable import insert_ignoring_conflicts


class BuiltinCalendar(Calendar):
    mirrored = False  # whether each change is also to be pushed elsewhere (see caldav.py)

    def __init__(self, db: Database):
        self.db = db

    def schedule(self, key: str, rep_id: str, transfer_id: str, kind: FollowUpKind, due_at: datetime, title: str,
                 description: str, now: datetime) -> CalendarTask:
        if due_at.tzinfo is None:
            raise ValueError("due_at must be timezone-aware")
        row = {"key": key, "rep_id": rep_id, "transfer_id": transfer_id, "kind": kind, "due_at": due_at,
               "title": title, "description": description, "sequence": 0, "done": False, "cancelled": False,
               "created_at": now, "sync_after": datetime.now(UTC) if self.mirrored else None}
        with self.db.session() as session:
            created = insert_ignoring_conflicts(session, CalendarTaskRow.__table__, [row], ["key"])
            task = _row(session, key)
            if not (created or task.done) and (task.due_at, task.title, task.description) != (due_at, title,
                                                                                            description):
                task.due_at, task.title, task.description = due_at, title, description
                self._changed(task)
            return _task(task)

    def close(self, key: str, cancelled: bool, now: datetime) -> CalendarTask:
        with self.db.session() as session:
            task = _row(session, key)
            if not task.done:
                task.done, task.cancelled, task.completed_at = True, cancelled, now
                self._changed(task)
            return _task(task)

    def task(self, key: str) -> CalendarTask:
        with self.db.read() as session:
            return _task(_row(session, key, for_update=False))

    def tasks_for(self, rep_id: str, include_done: bool = False) -> list[CalendarTask]:
        query = select(CalendarTaskRow).where(CalendarTaskRow.rep_id == rep_id)
        if not include_done:
            query = query.where(CalendarTaskRow.done.is_(False))
        with self.db.read() as session:
            rows = session.exec(query.order_by(CalendarTaskRow.due_at, CalendarTaskRow.id))
            return [_task(row) for row in rows]

    def _changed(self, task: CalendarTaskRow) -> None:
        task.sequence += 1
        if self.mirrored:  # a fresh change: pushed at once (by the clock the pushes run on), attempts counted afresh
            task.sync_after, task.sync_attempts = datetime.now(UTC), 0


def _row(session: Session, key: str, for_update: bool = True) -> CalendarTaskRow:
    query = select(CalendarTaskRow).where(CalendarTaskRow.key == key)
    row = session.exec(query.with_for_update() if for_update else query).first()
    if row is None:
        raise TaskNotFound(key)
    return row


def _task(row: CalendarTaskRow) -> CalendarTask:
    return CalendarTask.model_validate(row, from_attributes=True)
