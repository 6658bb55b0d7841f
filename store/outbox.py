"""The outbox: every notice of every transfer, written once, read by streams and delivered by dispatchers.

`outbox` holds the notices (unique on transfer_id + key, so a retried publish adds nothing).
`outbox_delivery` holds one row per notice and external channel (bot webhook, e-mail, chat) with the
retry state; dispatchers claim due rows under a lease so two processes never send the same row.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from pydantic import BaseModel
from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Row,
    String,
    UniqueConstraint,
    and_,
    bindparam,
    func,
    or_,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel, select

from domain.notices import Audience, Channel
from store.db import Database
from store.portable import BigId, UtcDateTime, insert_ignoring_conflicts, insert_returning_new
from store.tables import TransferRow
from store.wakeup import Wakeup, wakeup_for
from store.wakeup_pg import announce

# Serialises outbox appends on PostgreSQL so ids become visible in increasing order: a stream
# reader that resumes "after id N" would otherwise skip a row whose smaller id committed later.
# The rep notices that carry the prospect's details (the context package, the prospect's words).
WITH_CONTEXT = ("offer", "follow_up_due", "recovery", "follow_up_scheduled", "note")
_APPEND_LOCK_ID = 0x5754_4F42


class OutboxEntry(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("transfer_id", "key", name="uq_outbox_transfer_key"),
        Index("ix_outbox_rep_id", "rep_id", "id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True, autoincrement=True))
    transfer_id: str
    key: str
    audience: str = Field(sa_type=String(16))
    rep_id: str | None = None
    kind: str
    payload: dict = Field(sa_column=Column(JSON().with_variant(JSONB(), "postgresql"), nullable=False))
    callback_url: str | None = None
    email_to: str | None = None
    chat_to: str | None = None  # a chat channel (Slack) to post to
    created_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))


class OutboxDelivery(SQLModel, table=True):
    __tablename__ = "outbox_delivery"
    __table_args__ = (Index("ix_outbox_delivery_due", "channel", "status", "next_attempt_at"),)

    outbox_id: int = Field(sa_column=Column(BigId, ForeignKey("outbox.id", ondelete="CASCADE"), primary_key=True))
    channel: str = Field(sa_type=String(16), primary_key=True)
    status: str = Field(default="pending", sa_type=String(16))  # pending | delivered | dead
    # Counted when a row is claimed, so a dispatcher that crashes mid-send still uses up an attempt.
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))
    lease_token: str | None = None
    lease_until: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))
    last_error: str | None = None
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime))


class OutboxRow(BaseModel):
    id: int
    transfer_id: str
    key: str
    audience: Audience
    rep_id: str | None
    kind: str
    payload: dict[str, Any]
    created_at: datetime


class PendingDelivery(BaseModel):
    """A claimed outbox row: the dispatcher holding `lease_token` may send it until the lease ends."""

    row: OutboxRow
    channel: Channel
    attempt: int
    lease_token: str
    callback_url: str | None
    email_to: str | None
    chat_to: str | None


def transfer_topic(transfer_id: str) -> str:
    """The wake-up topic of one transfer's stream (see store.wakeup)."""
    return f"transfer:{transfer_id}"


def rep_topic(rep_id: str) -> str:
    """The wake-up topic of one rep's stream."""
    return f"rep:{rep_id}"


_ROUTING_COLUMNS = tuple(getattr(OutboxEntry, name) for name in
                         ("id", "transfer_id", "key", "rep_id", "callback_url", "email_to", "chat_to", "created_at"))


def channel_topic(channel: Channel) -> str:
    """The wake-up topic of one channel's dispatchers: only notices to deliver on that channel wake them."""
    return f"deliveries:{channel}"


def _topics(entry: Row) -> list[str]:
    """What a notice wakes: the transfer's stream, its rep's, and the dispatchers of its channels."""
    return ([transfer_topic(entry.transfer_id)] + ([rep_topic(entry.rep_id)] if entry.rep_id else [])
            + [channel_topic(channel) for channel in _channels(entry)])


def _row(entry: OutboxEntry) -> OutboxRow:
    return OutboxRow.model_validate(entry, from_attributes=True)


class OutboxStore:
    def __init__(self, db: Database):
        self.db = db
        self.appended: Wakeup = wakeup_for(db)  # notified after each append, for readers in this process

    def append(self, notices: Sequence[Mapping[str, Any]]) -> list[int]:
        """Write notices (transfer_id, key, audience, rep_id, kind, payload, callback_url, email_to, chat_to)
        in one transaction; returns their ids in order. A (transfer_id, key) already stored keeps
        its first version and its id.
        """
        if not notices:
            return []
        now = datetime.now(UTC)
        with self.db.session() as session:
            if not self.db.is_sqlite:
                session.exec(select(func.pg_advisory_xact_lock(_APPEND_LOCK_ID)))
            # What deliveries and wake-ups need of the rows, not their payloads: no JSON is read back.
            inserted = insert_returning_new(session, OutboxEntry.__table__,
                                            [{**notice, "created_at": now} for notice in notices],
                                            ["transfer_id", "key"], _ROUTING_COLUMNS)
            by_key = {(entry.transfer_id, entry.key): entry for entry in inserted}
            stored_before = [n for n in notices if (n["transfer_id"], n["key"]) not in by_key]
            if stored_before:  # a retried publish: those notices keep their first version and id
                by_key.update(((entry.transfer_id, entry.key), entry) for entry in session.connection().execute(
                    select(*_ROUTING_COLUMNS).where(
                        OutboxEntry.transfer_id.in_({n["transfer_id"] for n in stored_before}),
                        OutboxEntry.key.in_({n["key"] for n in stored_before}),
                    )
                ))
            entries = [by_key[(n["transfer_id"], n["key"])] for n in notices]
            insert_ignoring_conflicts(
                session,
                OutboxDelivery.__table__,
                [
                    {
                        "outbox_id": entry.id,
                        "channel": channel,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": entry.created_at,
                    }
                    for entry in {entry.id: entry for entry in entries}.values()
                    for channel in _channels(entry)
                ],
                ["outbox_id", "channel"],
            )
            topics = {topic for entry in entries for topic in _topics(entry)}
            if not self.db.is_sqlite:  # readers in other processes, on any host, hear of them when this commits
                announce(session, topics)
        self.appended.notify(topics)
        return [entry.id for entry in entries]

    def for_transfer(
        self, transfer_id: str, after_id: int = 0, audience: Audience | None = None, limit: int = 500
    ) -> list[OutboxRow]:
        query = select(OutboxEntry).where(OutboxEntry.transfer_id == transfer_id, OutboxEntry.id > after_id)
        if audience is not None:
            query = query.where(OutboxEntry.audience == audience)
        with self.db.read() as session:
            return [_row(e) for e in session.exec(query.order_by(OutboxEntry.id).limit(limit))]

    def for_rep(self, rep_id: str, after_id: int = 0, limit: int = 500, replayed_through: int = 0) -> list[OutboxRow]:
        """The rep's notices after `after_id`. Of those up to `replayed_through` (told before the stream opened), the
        ones with a prospect's details only while their transfer is still the rep's: an offer that lapsed or was
        declined and went to a colleague is not shown again to whoever holds the rep's key."""
        query = select(OutboxEntry).where(OutboxEntry.rep_id == rep_id, OutboxEntry.id > after_id)
        if replayed_through > after_id:
            theirs = select(TransferRow.transfer_id).where(TransferRow.rep_id == rep_id)
            query = query.where(or_(OutboxEntry.id > replayed_through, OutboxEntry.kind.not_in(WITH_CONTEXT),
                                    OutboxEntry.transfer_id.in_(theirs)))
        with self.db.read() as session:
            return [_row(e) for e in session.exec(query.order_by(OutboxEntry.id).limit(limit))]

    def latest_id(self) -> int:
        """Where a new stream starts when it only wants what comes next."""
        with self.db.read() as session:
            return session.exec(select(func.coalesce(func.max(OutboxEntry.id), 0))).one()


def _channels(entry: Row) -> list[Channel]:
    channels: list[Channel] = []
    if entry.callback_url:
        channels.append("webhook")
    if entry.email_to:
        channels.append("email")
    if entry.chat_to:
        channels.append("chat")
    return channels


class DeliveryQueue:
    """Due deliveries of one channel, claimed under a lease; the retry policy belongs to the caller."""

    def __init__(self, db: Database, channel: Channel):
        self.db = db
        self.channel = channel
        self.appended: Wakeup = wakeup_for(db)
        self.topic = channel_topic(channel)

    def claim(self, now: datetime, limit: int, lease: timedelta) -> list[PendingDelivery]:
        token = uuid4().hex
        probe, lease_due, leased = _claim_statements(self.channel, limit)
        with self.db.read() as session:  # most polls find nothing: they need not wait for the write lock
            if session.connection().execute(probe, {"now": now}).first() is None:
                return []
        with self.db.session() as session:
            connection = session.connection()
            connection.execute(lease_due, {"now": now, "claim_token": token, "leased_until": now + lease})
            claimed = connection.execute(leased, {"claim_token": token}).all()
        return [
            PendingDelivery(
                row=OutboxRow.model_validate(row._mapping),
                channel=self.channel,
                attempt=row.attempts,
                lease_token=token,
                callback_url=row.callback_url,
                email_to=row.email_to,
                chat_to=row.chat_to,
            )
            for row in claimed
        ]

    def status_of(self, transfer_id: str, key: str) -> str | None:
        """Where this channel's delivery of one notice stands (pending, delivered, dead); None if the notice was not
        for this channel."""
        query = (select(OutboxDelivery.status)
                 .join(OutboxEntry, OutboxEntry.id == OutboxDelivery.outbox_id)
                 .where(OutboxEntry.transfer_id == transfer_id, OutboxEntry.key == key,
                        OutboxDelivery.channel == self.channel))
        with self.db.read() as session:
            return session.exec(query).first()

    def mark_delivered(self, claims: Sequence[PendingDelivery], now: datetime) -> None:
        """A batch's deliveries, settled in one write."""
        self._settle(claims, status="delivered", delivered_at=now, last_error=None)

    def retry_at(self, claim: PendingDelivery, when: datetime, error: str) -> None:
        self._settle([claim], status="pending", next_attempt_at=when, last_error=error)

    def mark_dead(self, claim: PendingDelivery, error: str) -> None:
        self._settle([claim], status="dead", last_error=error)

    def _settle(self, claims: Sequence[PendingDelivery], **values: Any) -> None:
        # Guarded by the lease token: a dispatcher whose lease was taken over changes nothing.
        ids_by_token: dict[str, list[int]] = {}
        for claim in claims:
            ids_by_token.setdefault(claim.lease_token, []).append(claim.row.id)
        if not ids_by_token:
            return
        statement = _settle_statement(self.channel, tuple(values))
        with self.db.session() as session:
            connection = session.connection()
            for token, ids in ids_by_token.items():
                connection.execute(statement, {"ids": ids, "claim_token": token,
                                               **{f"new_{name}": value for name, value in values.items()}})


# A dispatcher claims and settles several times a second: its statements are built once per channel and shape
# (building them cost more than running them), with the moment, the lease token and the ids bound at each call.
_DELIVERY, _ENTRY = OutboxDelivery.__table__.c, OutboxEntry.__table__.c


@functools.lru_cache(maxsize=64)
def _claim_statements(channel: str, limit: int) -> tuple[Any, Any, Any]:
    """A claim's probe for anything due, its update that leases up to `limit` due rows, and its read of them."""
    now = bindparam("now")
    claimable = and_(
        _DELIVERY.channel == channel,
        _DELIVERY.status == "pending",
        _DELIVERY.next_attempt_at <= now,
        or_(_DELIVERY.lease_until.is_(None), _DELIVERY.lease_until <= now),
    )
    probe = select(_DELIVERY.outbox_id).where(claimable).limit(1)
    # SKIP LOCKED (PostgreSQL; SQLite has one writer anyway) lets a second dispatcher take other
    # rows instead of waiting; repeating `claimable` in the UPDATE makes the lease check atomic.
    due = (select(_DELIVERY.outbox_id).where(claimable).order_by(_DELIVERY.next_attempt_at).limit(limit)
           .with_for_update(skip_locked=True))
    lease_due = (update(OutboxDelivery.__table__).where(claimable, _DELIVERY.outbox_id.in_(due))
                 .values(lease_token=bindparam("claim_token"), lease_until=bindparam("leased_until"),
                         attempts=_DELIVERY.attempts + 1))
    leased = (select(_DELIVERY.attempts, *(_ENTRY[name] for name in (*OutboxRow.model_fields, "callback_url",
                                                                       "email_to", "chat_to")))
              .select_from(OutboxDelivery.__table__.join(OutboxEntry.__table__, _ENTRY.id == _DELIVERY.outbox_id))
              .where(_DELIVERY.channel == channel, _DELIVERY.lease_token == bindparam("claim_token"))
              .order_by(_DELIVERY.outbox_id))
    return probe, lease_due, leased


@functools.lru_cache(maxsize=64)
def _settle_statement(channel: str, changed: tuple[str, ...]) -> Any:
    """Ends the lease on the ids held under one token (guarded by it), setting `changed` from `new_<name>`."""
    return (update(OutboxDelivery.__table__)
            .where(_DELIVERY.outbox_id.in_(bindparam("ids", expanding=True)), _DELIVERY.channel == channel,
                   _DELIVERY.lease_token == bindparam("claim_token"))
            .values(lease_token=None, lease_until=None, **{name: bindparam(f"new_{name}") for name in changed}))
