"""A calendar made before tasks could move and close, and be mirrored, is brought up to date at start-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect, text

from integrations.calendar.builtin import BuiltinCalendar
from store.db import Database

ADDED = ("kind", "sequence", "cancelled", "sync_after", "synced_sequence", "sync_attempts", "sync_error")
DUE = datetime(2030, 6, 3, 9, 0, tzinfo=UTC)


def test_start_up_adds_the_columns_and_old_tasks_read_as_callbacks_never_changed(fresh_url: str) -> None:
    db = Database(fresh_url)
    try:
        db.create_all()
        with db.engine.begin() as connection:  # the table as it was
            connection.execute(text("DROP INDEX ix_calendar_task_sync"))
            for column in ADDED:
                connection.execute(text(f"ALTER TABLE calendar_task DROP COLUMN {column}"))
            connection.execute(text("INSERT INTO calendar_task (key, rep_id, transfer_id, due_at, title, description, "
                                    "done, created_at) VALUES ('t-1:task:4', 'sarah', 't-1', :due, 'Follow up', '', "
                                    ":no, :due)"), {"due": DUE.replace(tzinfo=None), "no": False})

        db.create_all()  # what start-up runs
        db.create_all()  # and again: nothing left to do

        with db.engine.connect() as connection:
            assert set(ADDED) <= {c["name"] for c in inspect(connection).get_columns("calendar_task")}
        calendar = BuiltinCalendar(db)
        [old] = calendar.tasks_for("sarah")
        assert (old.kind, old.sequence, old.done, old.cancelled) == ("callback", 0, False, False)
        moved = calendar.schedule("t-1:task:4", "sarah", "t-1", "callback", DUE + timedelta(hours=1), "Follow up", "",
                                  DUE)
        assert (moved.sequence, moved.due_at) == (1, DUE + timedelta(hours=1))
        assert calendar.close("t-1:task:4", cancelled=True, now=DUE).cancelled
    finally:
        db.dispose()
