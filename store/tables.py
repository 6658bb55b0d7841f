"""Tables of the app database: reps, seats held, the queue, transfer records and their events, API keys and
calendar tokens."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from urllib.parse import quote
from uuid import uuid4

from sqlalchemy import JSON, Column, Float, Index, Integer, String, Text, UniqueConstraint, cast, event, inspect, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlmodel import Field, SQLModel

from store.portable import UtcDateTime


def _when(*, index: bool = False, nullable: bool = False) -> Column:
    return Column(UtcDateTime, index=index, nullable=nullable)


def _count(default: int) -> Column:
    return Column(Integer, nullable=False, default=default, server_default=str(default))


class CodePointOrder(ColumnElement):
    """A text column compared by code point, as Python compares str: BINARY on SQLite, "C" on PostgreSQL
    (whose default collation may be a language's). The same construct in an index and an ORDER BY renders
    the same, so the index serves the order."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]  # so statements using it are cached

    def __init__(self, column: ColumnElement):
        self.column = column
        self.type = column.type


@compiles(CodePointOrder, "postgresql")
def _c_collation(element: CodePointOrder, compiler, **kw) -> str:  # SQLAlchemy hook
    return f'{compiler.process(element.column, **kw)} COLLATE "C"'


@compiles(CodePointOrder)
def _binary_collation(element: CodePointOrder, compiler, **kw) -> str:
    return f"{compiler.process(element.column, **kw)} COLLATE BINARY"


class Position(FunctionElement):
    """Where a string first occurs in another, from 1, or 0: instr() on SQLite, strpos() on PostgreSQL.
    Unlike LIKE, nothing in the string sought is a wildcard."""

    type = Integer()
    inherit_cache = True

    def __init__(self, within: ColumnElement, sought: ColumnElement):
        super().__init__(within, sought)


@compiles(Position, "postgresql")
def _strpos(element: Position, compiler, **kw) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


@compiles(Position)
def _instr(element: Position, compiler, **kw) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


class RepRow(SQLModel, table=True):
    """A rep. Besides the profile (JSON), copies of what routing filters, orders and groups on in SQL, all
    written with the profile (`profile_columns`): `capacity`, `languages` (",en,de,"), `skills` (see
    `skill_token`), `shift` (a hash of the time zone and working hours: reps with equal ones share it);
    `profile_rev`, new on every profile write, so a parsed profile can be cached by it; and `active`, how
    many seat rows the rep holds, changed in the same transaction as the seats."""

    __tablename__ = "reps"
    # Covering indexes: the decisions' queries never touch the (wide) rows, only these entries.
    # ix_reps_room holds only reps with a free seat (a partial index), so "who has room" reads just those.
    __table_args__ = (Index("ix_reps_room", "presence", "team", "shift", "active", "capacity", "last_assigned_at",
                            "id", "profile_rev", sqlite_where=text("active < capacity"),
                            postgresql_where=text("active < capacity")),
                      Index("ix_reps_shift", "team", "shift", "presence", "languages", "capacity", "id"))
    id: str = Field(primary_key=True, max_length=64)
    team: str = Field(index=True, max_length=40)
    profile: dict = Field(sa_column=Column(JSON, nullable=False))
    presence: str = Field(default="offline", max_length=16)
    presence_changed_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    last_assigned_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    capacity: int = Field(default=1, sa_column=_count(1))
    active: int = Field(default=0, sa_column=_count(0))
    languages: str = Field(default=",en,", max_length=80)
    skills: str = Field(default=",", sa_column=Column(Text, nullable=False, server_default=","))
    shift: str = Field(default="", max_length=40)
    profile_rev: str | None = Field(default=None, max_length=32)


_rep = RepRow.__table__.c
# The order in which routing reads reps with a free seat (best_free's tie-breaks: load ratio, never
# assigned first, then longest idle, then id), with its index: per presence and team, only reps with a
# free seat, so a batch of the best reps reads just that batch's entries instead of sorting the team.
# The index covers the language and skills too, so a search for a rare skill or language filters and
# ranks the team's free reps on the index entries alone.
BEST_FIRST = (cast(_rep.active, Float) / _rep.capacity, _rep.last_assigned_at.is_not(None), _rep.last_assigned_at,
              CodePointOrder(_rep.id))
Index("ix_reps_best_free", _rep.presence, _rep.team, *BEST_FIRST, _rep.active, _rep.capacity, _rep.profile_rev,
      _rep.shift, _rep.languages, _rep.skills, sqlite_where=text("active < capacity"),
      postgresql_where=text("active < capacity"))


def skill_token(skill: str) -> str:
    """What RepRow.skills (",pricing,sso,") holds exactly when the rep has `skill`: skills are percent-encoded
    there, so none holds a comma and a match can never start or end inside another skill."""
    return f",{_encoded(skill)},"


def _encoded(skill: str) -> str:
    return quote(skill, safe="")


def profile_columns(profile: dict) -> dict:
    """The columns written with a rep's profile (a RepProfile.model_dump in JSON mode)."""
    return {"team": profile["team"], "profile": profile, **_derived(profile)}


def shift_key(timezone: str, hours: dict) -> str:
    canonical = json.dumps([timezone, hours], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:24]


def _derived(profile: dict) -> dict:
    hours = {day: [list(span) for span in spans] for day, spans in profile.get("working_hours", {}).items()}
    return {"capacity": profile.get("capacity", 1), "languages": f",{','.join(profile.get('languages', ['en']))},",
            "skills": ",".join(["", *map(_encoded, profile.get("skills", [])), ""]),
            "shift": shift_key(profile.get("timezone", "UTC"), hours),
            "profile_rev": uuid4().hex}


@event.listens_for(RepRow, "before_insert")
@event.listens_for(RepRow, "before_update")
def _new_profile_revision(_mapper, _connection, row: RepRow) -> None:  # SQLAlchemy hook
    """Any ORM write of a profile renews its copies and revision, so no cached parse of the old one is used."""
    if inspect(row).attrs.profile.history.has_changes():
        for column, value in _derived(row.profile).items():
            setattr(row, column, value)


class SeatRow(SQLModel, table=True):
    """One row per transfer holding one of a rep's seats; RepRow.active counts them."""

    __tablename__ = "seats"
    transfer_id: str = Field(primary_key=True, max_length=100)
    rep_id: str = Field(index=True, foreign_key="reps.id", max_length=64)
    reserved_at: datetime = Field(sa_column=_when())


class QueueRow(SQLModel, table=True):
    """A transfer waiting for a seat. Served by priority, then `arrival`: a counter taken inside the
    serialised capacity transaction, so equal or skewed clocks can never reorder who came first.
    `team` and `language` copy the routing's ("" for none), so dispatch reads only entries that the reps
    with a free seat could take, passing over the others on ix_queue_head's entries."""

    __tablename__ = "queue"
    __table_args__ = (Index("ix_queue_order", "priority", "arrival"),)
    transfer_id: str = Field(primary_key=True, max_length=100)
    team: str = Field(max_length=40)
    language: str = Field(default="", sa_column=Column(String(2), nullable=False, server_default=""))
    routing: dict = Field(sa_column=Column(JSON, nullable=False))
    priority: int = 0
    arrival: int = Field(unique=True)
    enqueued_at: datetime = Field(sa_column=_when())


_queue = QueueRow.__table__.c
Index("ix_queue_head", _queue.priority.desc(), _queue.arrival, _queue.team, _queue.language)
Index("ix_queue_team_order", _queue.team, _queue.priority.desc(), _queue.arrival, _queue.transfer_id)


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
    # The setting this key stands for (`WT_ADMIN_KEY`): when the setting's value changes, the key it stood for is
    # revoked (store.keys.KeyStore.stand_for). None for a key issued through the API or a demo key.
    setting: str | None = Field(default=None, max_length=32)


class CalendarTokenRow(SQLModel, table=True):
    """A rep's calendar feed token (store.keys.CalendarTokenStore), by hash like API keys."""

    __tablename__ = "calendar_tokens"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    rep_id: str = Field(index=True, max_length=64)
    created_at: datetime = Field(sa_column=_when())
    revoked_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
