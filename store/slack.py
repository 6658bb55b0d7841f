"""What the Slack integration keeps: the alerts it posted (channel and ts, so each can be edited in place and a click
on it traced to its transfer), and the signatures of Slack's requests lately seen, so none is taken twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import JSON, Column, Index, delete
from sqlmodel import Field, SQLModel, select

from store.db import Database
from store.portable import UtcDateTime, insert_ignoring_conflicts, upsert


class SlackMessageRow(SQLModel, table=True):
    __tablename__ = "slack_messages"
    __table_args__ = (Index("ix_slack_messages_notice", "transfer_id", "notice_key"),)

    channel: str = Field(primary_key=True, max_length=32)
    ts: str = Field(primary_key=True, max_length=32)
    transfer_id: str = Field(max_length=100)
    notice_key: str = Field(max_length=200)
    card: list = Field(sa_column=Column(JSON, nullable=False))  # the blocks an edit keeps (the alert, not its buttons)
    posted_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False))


class SlackRequestRow(SQLModel, table=True):
    __tablename__ = "slack_requests"

    signature: str = Field(primary_key=True, max_length=100)
    seen_at: datetime = Field(sa_column=Column(UtcDateTime, nullable=False, index=True))


class PostedMessage(BaseModel):
    """A notice as posted to Slack. Delivery is at least once, so a notice may have been posted more than once."""

    channel: str
    ts: str
    transfer_id: str
    notice_key: str
    card: list[dict]


class SlackStore:
    def __init__(self, db: Database):
        self.db = db

    def record(self, message: PostedMessage, now: datetime) -> None:
        with self.db.session() as session:
            upsert(session, SlackMessageRow.__table__, {**message.model_dump(), "posted_at": now}, ["channel", "ts"])

    def posted(self, transfer_id: str, notice_key: str) -> list[PostedMessage]:
        """Every message posted for one notice."""
        query = select(SlackMessageRow).where(SlackMessageRow.transfer_id == transfer_id,
                                              SlackMessageRow.notice_key == notice_key).order_by(SlackMessageRow.ts)
        with self.db.read() as session:
            return [PostedMessage.model_validate(row, from_attributes=True) for row in session.exec(query)]

    def at(self, channel: str, ts: str) -> PostedMessage | None:
        """The message posted at `ts` in `channel`, if we posted it."""
        with self.db.read() as session:
            row = session.get(SlackMessageRow, (channel, ts))
        return None if row is None else PostedMessage.model_validate(row, from_attributes=True)

    def first_sight(self, signature: str, now: datetime, remember: timedelta) -> bool:
        """True the first time a request signature is seen within `remember`; False for a replay. Older signatures
        are forgotten: a request that old is refused as stale anyway."""
        with self.db.session() as session:
            session.exec(delete(SlackRequestRow).where(SlackRequestRow.seen_at < now - remember))
            return insert_ignoring_conflicts(session, SlackRequestRow.__table__,
                                             [{"signature": signature, "seen_at": now}], ["signature"]) == 1
