"""What the watchdog reads and keeps: what queued transfers were last told, and whom ops were alerted of when."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Column, delete
from sqlmodel import Field, SQLModel, select

from domain.lifecycle import Status
from domain.watchdog import QueueEstimate
from store.db import Database
from store.portable import UtcDateTime, insert_ignoring_conflicts
from store.tables import TransferEventRow, TransferRow

ESTIMATE_KINDS = (Status.QUEUED.value, "queue_moved")  # the events that tell a queued transfer its place and wait


class WatchdogAlertRow(SQLModel, table=True):
    """A transfer ops were alerted of, and when: not again until the reminder is due."""

    __tablename__ = "watchdog_alerts"
    transfer_id: str = Field(primary_key=True, max_length=100)
    alerted_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False, index=True))


class WatchdogStore:
    def __init__(self, db: Database):
        self.db = db

    def queue_estimates(self) -> list[QueueEstimate]:
        """For every transfer queued now, its latest estimate (place and wait)."""
        queued = select(TransferRow.transfer_id).where(TransferRow.status == Status.QUEUED)
        with self.db.read() as session:
            teams = dict(session.exec(select(TransferRow.transfer_id, TransferRow.team)
                                      .where(TransferRow.status == Status.QUEUED)).all())
            events = session.exec(
                select(TransferEventRow.transfer_id, TransferEventRow.at, TransferEventRow.data)
                .where(TransferEventRow.transfer_id.in_(queued), TransferEventRow.kind.in_(ESTIMATE_KINDS))
                .order_by(TransferEventRow.transfer_id, TransferEventRow.seq)).all()
        latest = {transfer_id: (at, data) for transfer_id, at, data in events}  # ordered: the last one stays
        return [QueueEstimate(transfer_id=transfer_id, team=teams.get(transfer_id), position=data["position"],
                              eta_seconds=data["eta_seconds"], at=at)
                for transfer_id, (at, data) in latest.items()]

    def claim_alerts(self, transfer_ids: Sequence[str], now: datetime, quiet: timedelta) -> list[str]:
        """Which of `transfer_ids` ops may be alerted of at `now`: those not alerted of in the `quiet` period
        before it, recorded as alerted at `now`. Claiming again at the same `now` (a retried alert) answers the
        same."""
        table = WatchdogAlertRow.__table__
        with self.db.session() as session:
            connection = session.connection()
            connection.execute(delete(table).where(table.c.alerted_at <= now - quiet))
            insert_ignoring_conflicts(session, table, [{"transfer_id": t, "alerted_at": now} for t in transfer_ids],
                                      ["transfer_id"])
            claimed = set(connection.execute(select(table.c.transfer_id).where(
                table.c.transfer_id.in_(transfer_ids), table.c.alerted_at == now)).scalars())
        return [transfer_id for transfer_id in transfer_ids if transfer_id in claimed]
