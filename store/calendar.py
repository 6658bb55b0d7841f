"""Table of the built-in calendar: follow-up tasks on reps' calendars (callbacks, confirmations), and what a mirror
of it (a CalDAV server) has of each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, Index, Integer, Text, false, text
from sqlmodel import Field, SQLModel

from store.portable import BigId, UtcDateTime


class CalendarTaskRow(SQLModel, table=True):
    __tablename__ = "calendar_task"
    __table_args__ = (Index("ix_calendar_task_rep_due", "rep_id", "due_at"),
                      # Only tasks with a change still to mirror: the sync loop reads just those.
                      Index("ix_calendar_task_sync", "sync_after", sqlite_where=text("sync_after IS NOT NULL"),
                            postgresql_where=text("sync_after IS NOT NULL")))

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    key: str = Field(unique=True)
    rep_id: str
    transfer_id: str = Field(index=True)
    kind: str = Field(default="callback", sa_column=Column(Text, nullable=False, server_default="callback"))
    due_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    title: str
    description: str = Field(sa_type=Text)
    sequence: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    done: bool = False
    cancelled: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    created_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    completed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    # The mirror: when its next push is due (None: nothing to push, or given up), the sequence it has, and how
    # the pushes since the last change went.
    sync_after: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    synced_sequence: int | None = None
    sync_attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    sync_error: str | None = None
