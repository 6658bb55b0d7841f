"""CRM notes on their way.

`crm_note_pending`: notes a CRM could not take when their step happened (it was down, slow or refusing), kept
until a retry writes them; any CRM. `crm_note_write`: the ledger of notes an outside CRM was asked to write, by
idempotency key, so that a repeat writes nothing and a write whose answer never came is looked for before it is
written again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import JSON, Column, Text, delete, or_, update
from sqlmodel import Field, SQLModel, select

from domain.context import Prospect
from store.db import Database
from store.portable import UtcDateTime, insert_ignoring_conflicts

ERROR_LIMIT = 300  # characters of the last error kept with a pending note


class PendingCrmNoteRow(SQLModel, table=True):
    __tablename__ = "crm_note_pending"

    key: str = Field(primary_key=True)
    transfer_id: str
    prospect: dict = Field(sa_column=Column(JSON, nullable=False))
    kind: str
    text: str = Field(sa_type=Text)
    at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    # Counted when a retry claims the note, so a retrier that dies mid-write still uses up an attempt.
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False, index=True))
    lease_until: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    last_error: str | None = None


class PendingCrmNote(BaseModel):
    key: str
    transfer_id: str
    prospect: Prospect
    kind: str
    text: str
    at: datetime
    attempts: int


class PendingCrmNotes:
    def __init__(self, db: Database):
        self.db = db

    def add(self, transfer_id: str, key: str, prospect: Prospect, kind: str, text: str, at: datetime, *,
            error: str) -> None:
        """Keep a note the CRM did not take, due for a retry at once; a note kept already (a retried step) stays
        as it was."""
        row = {"key": key, "transfer_id": transfer_id, "prospect": prospect.model_dump(mode="json"), "kind": kind,
               "text": text, "at": at, "attempts": 0, "next_attempt_at": datetime.now(UTC),
               "last_error": error[:ERROR_LIMIT]}
        with self.db.session() as session:
            insert_ignoring_conflicts(session, PendingCrmNoteRow.__table__, [row], ["key"])

    def claim(self, now: datetime, limit: int, lease: timedelta) -> list[PendingCrmNote]:
        """Up to `limit` notes due for a retry, each held by the caller until `lease` ends (one retrier per note,
        however many processes retry)."""
        table = PendingCrmNoteRow.__table__.c
        free = or_(table.lease_until.is_(None), table.lease_until <= now)
        with self.db.read() as session:
            due = session.exec(select(PendingCrmNoteRow.key)
                               .where(PendingCrmNoteRow.next_attempt_at <= now, free)
                               .order_by(PendingCrmNoteRow.next_attempt_at).limit(limit)).all()
        claimed = []
        for key in due:
            with self.db.session() as session:
                taken = session.connection().execute(
                    update(PendingCrmNoteRow.__table__).where(table.key == key, table.next_attempt_at <= now, free)
                    .values(lease_until=now + lease, attempts=table.attempts + 1)).rowcount
                if taken:
                    row = session.get(PendingCrmNoteRow, key)
                    claimed.append(PendingCrmNote.model_validate(row, from_attributes=True))
        return claimed

    def remove(self, key: str) -> None:
        """The note was written, or given up."""
        with self.db.session() as session:
            session.exec(delete(PendingCrmNoteRow).where(PendingCrmNoteRow.key == key))

    def retry_at(self, key: str, when: datetime, error: str) -> None:
        with self.db.session() as session:
            session.exec(update(PendingCrmNoteRow).where(PendingCrmNoteRow.key == key)
                         .values(next_attempt_at=when, lease_until=None, last_error=error[:ERROR_LIMIT]))

    def keys(self) -> list[str]:
        """The notes still waiting for the CRM."""
        with self.db.read() as session:
            return list(session.exec(select(PendingCrmNoteRow.key).order_by(PendingCrmNoteRow.key)))


class NoteWriteRow(SQLModel, table=True):
    __tablename__ = "crm_note_write"

    key: str = Field(primary_key=True)
    record: str | None = None  # the CRM record the note goes on, e.g. "contacts/51"
    note_id: str | None = None  # the CRM's id of the note, once written
    unsure: bool = False  # a write was sent and no clear answer came back: it may be in the CRM
    lease_until: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))


class NoteWrite(BaseModel):
    key: str
    record: str | None
    note_id: str | None
    unsure: bool


class NoteWrites:
    """Which notes an outside CRM has, by idempotency key. An attempt claims its key, says where the note goes
    and that it is sending it (before it does: a process that dies mid-write leaves the note unsure, not
    forgotten), then records the CRM's note id, or releases the key if the write surely failed."""

    def __init__(self, db: Database):
        self.db = db

    def claim(self, key: str, now: datetime, lease: timedelta) -> NoteWrite | None:
        """The key's write, held by the caller until `lease` ends; one already written comes back with its note id
        (and is not held); None while another attempt holds it."""
        table = NoteWriteRow.__table__.c
        with self.db.session() as session:
            insert_ignoring_conflicts(session, NoteWriteRow.__table__, [{"key": key, "unsure": False}], ["key"])
            held = session.connection().execute(
                update(NoteWriteRow.__table__)
                .where(table.key == key, table.note_id.is_(None),
                       or_(table.lease_until.is_(None), table.lease_until <= now))
                .values(lease_until=now + lease)).rowcount
            row = session.get(NoteWriteRow, key)
            return NoteWrite.model_validate(row, from_attributes=True) if held or row.note_id else None

    def sending(self, key: str, record: str) -> None:
        self._set(key, record=record, unsure=True)

    def written(self, key: str, note_id: str) -> None:
        self._set(key, note_id=note_id, unsure=False, lease_until=None)

    def release(self, key: str, *, unsure: bool) -> None:
        self._set(key, unsure=unsure, lease_until=None)

    def _set(self, key: str, **values: object) -> None:
        with self.db.session() as session:
            session.exec(update(NoteWriteRow).where(NoteWriteRow.key == key).values(**values))
