"""Tables of the app database: reps, seats held, the queue, transfer records and their events, API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.portable import UtcDateTime


def _when(*, index: bool = False, nullable: bool = False) -> Column:
    return Column(UtcDateTime, index=index, nullable=nullable)


class RepRow(SQLModel, table=True):
    __tablename__ = "reps"
    id: str = Field(primary_key=True, max_length=64)
    team: str = Field(index=True, max_length=40)
    profile: dict = Field(sa_column=Column(JSON, nullable=False))
    presence: str = Field(default="offline", max_length=16)
    presence_changed_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    last_assigned_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class SeatRow(SQLModel, table=True):
    """One row per transfer holding one of a rep's seats: the load is counted, never stored."""

    __tablename__ = "seats"
    transfer_id: str = Field(primary_key=True, max_length=100)
    rep_id: str = Field(index=True, foreign_key="reps.id", max_length=64)
    reserved_at: datetime = Field(sa_column=_when())


class QueueRow(SQLModel, table=True):
    """A transfer waiting for a seat. Served by priority, then `arrival`: a counter taken inside the
    serialised capacity transaction, so equal or skewed clocks can never reorder who came first."""

    __tablename__ = "queue"
    __table_args__ = (Index("ix_queue_order", "priority", "arrival"),)
    transfer_id: str = Field(primary_key=True, max_length=100)
    team: str = Field(max_length=40)
    routing: dict = Field(sa_column=Column(JSON, nullable=False))
    priority: int = 0
    arrival: int = Field(unique=True)
    enqueued_at: datetime = Field(sa_column=_when())


class TransferRow(SQLModel, table=True):
    """The latest facts of a transfer, for lists and filters; the events below are the record."""

    __tablename__ = "transfers"
    transfer_id: str = Field(primary_key=True, max_length=100)
    status: str = Field(index=True, max_length=32)
    branch: str | None = Field(default=None, max_length=32)
    team: str | None = Field(default=None, index=True, max_length=40)
    rep_id: str | None = Field(default=None, index=True, max_length=64)
    score: int | None = None
    outcome: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_column=_when(index=True))
    updated_at: datetime = Field(sa_column=_when())
    summary: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class TransferEventRow(SQLModel, table=True):
    __tablename__ = "transfer_events"
    __table_args__ = (UniqueConstraint("transfer_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    transfer_id: str = Field(index=True, max_length=100)
    seq: int
    at: datetime = Field(sa_column=_when(index=True))
    status: str = Field(max_length=32)
    kind: str = Field(max_length=40)
    rep_id: str | None = Field(default=None, max_length=64)
    detail: str = Field(max_length=2000)
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class FeedbackRow(SQLModel, table=True):
    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("transfer_id", "source"),)
    id: int | None = Field(default=None, primary_key=True)
    transfer_id: str = Field(index=True, max_length=100)
    source: str = Field(max_length=16)
    rep_id: str | None = Field(default=None, max_length=64)
    at: datetime = Field(sa_column=_when())
    data: dict = Field(sa_column=Column(JSON, nullable=False))


class ApiKeyRow(SQLModel, table=True):
    __tablename__ = "api_keys"
    id: int | None = Field(default=None, primary_key=True)
    key_hash: str = Field(unique=True, max_length=64)
    prefix: str = Field(max_length=12)
    role: str = Field(max_length=16)
    rep_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=_when())
    revoked_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
