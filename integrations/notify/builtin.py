"""The embedded notifier: notices go to the outbox table; streams read it, dispatchers deliver from it."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from domain.notices import Notice
from integrations.notify.base import DeliveryError, Notifier, ensure_deliverable
from store.db import Database
from store.outbox import OutboxStore


class BuiltinNotifier(Notifier):
    def __init__(self, db: Database):
        self.outbox = OutboxStore(db)

    def publish(self, notices: list[Notice]) -> list[int]:
        ensure_deliverable(notices)
        try:
            return self.outbox.append([notice.model_dump() for notice in notices])
        except SQLAlchemyError as exc:
            raise DeliveryError(f"outbox write failed ({type(exc).__name__})") from exc  # its text quotes the row
