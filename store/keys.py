"""API keys: only a hash is kept; the key itself is shown once, when it is made."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel
from sqlmodel import select

from store.db import Database
from store.portable import insert_ignoring_conflicts
from store.tables import ApiKeyRow


class Principal(BaseModel):
    role: str
    rep_id: str | None = None
    key_prefix: str


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
        principal = Principal(role=row.role, rep_id=row.rep_id, key_prefix=row.prefix)
        if len(self._remembered) >= self.MAX_REMEMBERED:  # many keys in use: start afresh rather than grow
            self._remembered.clear()
        self._remembered[digest] = (self._clock() + self.remember_seconds, principal)
        return principal
