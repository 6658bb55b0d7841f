"""API keys and calendar tokens: only a hash of each is kept; the key or token itself is shown once, when it is
made."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel
from sqlmodel import select, update

from store.db import Database
from store.portable import insert_ignoring_conflicts
from store.tables import ApiKeyRow, CalendarTokenRow


class Principal(BaseModel):
    role: str
    rep_id: str | None = None
    key_prefix: str
    key_id: int  # which key: what a transfer's owner is recorded as


class StoodFor(BaseModel):
    """What KeyStore.stand_for did: the setting's key's id, how many keys it stood for before it revoked, and
    whether the key works (not if an admin revoked it: it stays revoked until the setting changes)."""

    key_id: int
    revoked_others: int
    usable: bool


class LastAdminKey(Exception):
    """The key is the last admin key not revoked: it stays."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyStore:
    """Keys by hash. A key found is remembered for `remember_seconds`: every API request resolves its key, and a
    remembered one needs neither a database read nor a thread to run it on. So a key revoked in the database
    stops working in each process within that time."""

    MAX_REMEMBERED = 10_000

    def __init__(self, db: Database, remember_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.db = db
        self.remember_seconds, self._clock = remember_seconds, clock
        self._remembered: dict[str, tuple[float, Principal]] = {}

    def issue(self, role: str, rep_id: str | None, now: datetime) -> str:
        key = f"wt_{role}_{secrets.token_urlsafe(24)}"
        self.register(key, role, rep_id, now)
        return key

    def register(self, key: str, role: str, rep_id: str | None, now: datetime) -> None:
        """Store a key chosen outside (the first admin key, demo keys); registering it again is a no-op."""
        row = {"key_hash": hash_key(key), "prefix": key[:12], "role": role, "rep_id": rep_id, "created_at": now}
        with self.db.session() as session:
            # Two processes registering the same demo key at start-up must not fail on the unique hash.
            insert_ignoring_conflicts(session, ApiKeyRow.__table__, [row], ["key_hash"])

    def stand_for(self, setting: str, key: str, now: datetime) -> StoodFor:
        """Make `key` the one admin key `setting` (WT_ADMIN_KEY) stands for: registered (marked as the setting's),
        and every other key the setting stood for before revoked, in one transaction. Idempotent, and safe when
        several processes start at once with the same value; keys issued through the API are never touched. A key
        registered before keys were marked is marked now, if it is an admin key."""
        digest = hash_key(key)
        row = {"key_hash": digest, "prefix": key[:12], "role": "admin", "rep_id": None, "created_at": now,
               "setting": setting}
        with self.db.session() as session:
            insert_ignoring_conflicts(session, ApiKeyRow.__table__, [row], ["key_hash"])
            session.exec(update(ApiKeyRow).where(ApiKeyRow.key_hash == digest, ApiKeyRow.role == "admin",
                                                 ApiKeyRow.setting.is_(None)).values(setting=setting))
            revoked = session.exec(update(ApiKeyRow).where(
                ApiKeyRow.setting == setting, ApiKeyRow.key_hash != digest, ApiKeyRow.revoked_at.is_(None))
                .values(revoked_at=now)).rowcount
            current = session.exec(select(ApiKeyRow).where(ApiKeyRow.key_hash == digest)).one()
        return StoodFor(key_id=current.id, revoked_others=revoked, usable=current.role == "admin"
                        and current.revoked_at is None)

    def listed(self) -> list[ApiKeyRow]:
        """Every key, newest first: what it is, never the key itself (only its first characters)."""
        with self.db.read() as session:
            return list(session.exec(select(ApiKeyRow).order_by(ApiKeyRow.id.desc())).all())

    def revoke(self, key_id: int, now: datetime) -> ApiKeyRow | None:
        """Revoke a key: at once in this process, within `remember_seconds` in the others. Revoking a revoked key
        changes nothing. None if there is no such key; LastAdminKey, and nothing changed, if it is the last admin
        key not revoked: without one, nobody could manage keys or reps until WT_ADMIN_KEY changed."""
        with self.db.session() as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None:
                return None
            if row.revoked_at is None and row.role == "admin":
                # Locked (on PostgreSQL; SQLite has one writer), so two admins revoking the last two admin keys at
                # once cannot both succeed: the second finds the first's revoked.
                active = session.exec(select(ApiKeyRow.id).where(
                    ApiKeyRow.role == "admin", ApiKeyRow.revoked_at.is_(None)).with_for_update()).all()
                if not set(active) - {key_id}:
                    raise LastAdminKey(key_id)
            session.exec(update(ApiKeyRow).where(ApiKeyRow.id == key_id, ApiKeyRow.revoked_at.is_(None))
                         .values(revoked_at=now))
            session.refresh(row)
        self._remembered.pop(row.key_hash, None)
        return row

    def remembered(self, key: str) -> Principal | None:
        """The key's principal if it was resolved lately, without I/O; None if it must be resolved."""
        found = self._remembered.get(hash_key(key))
        return found[1] if found is not None and found[0] > self._clock() else None

    def resolve(self, key: str) -> Principal | None:
        digest = hash_key(key)
        with self.db.read() as session:
            row = session.exec(select(ApiKeyRow).where(ApiKeyRow.key_hash == digest)).first()
        if row is None or row.revoked_at is not None:
            self._remembered.pop(digest, None)
            return None
        principal = _principal(row)
        if len(self._remembered) >= self.MAX_REMEMBERED:  # many keys in use: start afresh rather than grow
            self._remembered.clear()
        self._remembered[digest] = (self._clock() + self.remember_seconds, principal)
        return principal

    def by_id(self, key_id: int) -> Principal | None:
        """The principal of the key with this id while it is not revoked (a signed session names its key by id)."""
        with self.db.read() as session:
            row = session.get(ApiKeyRow, key_id)
        return None if row is None or row.revoked_at is not None else _principal(row)


def _principal(row: ApiKeyRow) -> Principal:
    return Principal(role=row.role, rep_id=row.rep_id, key_prefix=row.prefix, key_id=row.id)


class CalendarTokenStore:
    """Per-rep tokens that read one thing, the rep's calendar feed: calendar apps can only send a secret in the
    feed's URL, and a URL is copied into calendars, logs and screenshots, so it never carries an API key. A rep has
    at most one: issuing a new one revokes the old."""

    def __init__(self, db: Database):
        self.db = db

    def issue(self, rep_id: str, now: datetime) -> str:
        token = f"wt_cal_{secrets.token_urlsafe(24)}"
        with self.db.session() as session:
            session.exec(_revoking(rep_id, now))
            session.add(CalendarTokenRow(token_hash=hash_key(token), rep_id=rep_id, created_at=now))
        return token

    def revoke(self, rep_id: str, now: datetime) -> bool:
        """Revoke the rep's token; False if there was none."""
        with self.db.session() as session:
            return session.exec(_revoking(rep_id, now)).rowcount > 0

    def rep_for(self, token: str) -> str | None:
        """The rep whose feed `token` reads; None for an unknown or revoked token."""
        with self.db.read() as session:
            return session.exec(select(CalendarTokenRow.rep_id).where(
                CalendarTokenRow.token_hash == hash_key(token), CalendarTokenRow.revoked_at.is_(None))).first()


def _revoking(rep_id: str, now: datetime):
    return (update(CalendarTokenRow)
            .where(CalendarTokenRow.rep_id == rep_id, CalendarTokenRow.revoked_at.is_(None))
            .values(revoked_at=now))
