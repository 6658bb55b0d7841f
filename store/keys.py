"""API keys: only a hash is kept; the key itself is shown once, when it is made."""

from __future__ import annotations

import hashlib
import secrets
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
    def __init__(self, db: Database):
        self.db = db

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

    def resolve(self, key: str) -> Principal | None:
        with self.db.read() as session:
            row = session.exec(select(ApiKeyRow).where(ApiKeyRow.key_hash == hash_key(key))).first()
        if row is None or row.revoked_at is not None:
            return None
        return Principal(role=row.role, rep_id=row.rep_id, key_prefix=row.prefix)
