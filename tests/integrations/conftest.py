"""Integration test helpers; `db` and `db_url` (SQLite and PostgreSQL) come from tests/conftest.py."""

from __future__ import annotations

from store.db import Database
from store.outbox import OutboxDelivery


def delivery_state(db: Database, outbox_id: int, channel: str) -> OutboxDelivery:
    with db.session() as session:
        return session.get(OutboxDelivery, (outbox_id, channel))
