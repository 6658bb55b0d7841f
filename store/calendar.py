"""Table of the built-in calendar: follow-up tasks on reps' calendars (callbacks, confirmations)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from store.portable import BigId, UtcDateTime


class CalendarTaskRow(SQLModel, table=True):
    __tablename__ = "calendar_task"
    __table_args__ = (Index("ix_calendar_task_rep_due", "rep_id", "due_at"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    key: str = Field(unique=True)
    rep_id: str
    transfer_id: str = Field(index=True)
    due_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    title: str
    description: str = Field(sa_type=Text)
    done: bool = False
    created_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    completed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
