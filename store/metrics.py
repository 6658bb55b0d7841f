"""Reads what the metrics are computed from: transfers created in a window, their events, feedback and usage."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Select, or_
from sqlmodel import Session, select

from domain.lifecycle import FINAL_STATUSES
from domain.metrics import EVENT_KINDS, Event, Promise, ProspectFeedbackRecord, RepFeedbackRecord, TransferRecord
from store.capacity import CapacityStore
from store.db import Database
from store.tables import FeedbackRow, TransferEventRow, TransferRow
from store.usage import UsageRow


@dataclass(frozen=True)
class Scope:
    """Transfers created in [start, end), optionally of one team or (latest) rep."""

    start: datetime
    end: datetime
    team: str | None = None
    rep: str | None = None


class Waiting(BaseModel):
    transfer_id: str
    position: int  # 1-based, in the team's queue
    priority: int
    since: datetime
    prospect: str | None = None
    company: str | None = None


class TeamQueue(BaseModel):
    team: str
    waiting: list[Waiting]


class MetricsStore:
    def __init__(self, db: Database):
        self.db = db

    def transfers(self, scope: Scope) -> list[TransferRecord]:
        with self.db.read() as session:
            facts = session.exec(_in_scope(select(TransferRow), scope).order_by(TransferRow.created_at)).all()
            events, opened, csat = _events(session, scope), _opened(session, scope), _csat(session, scope)
        return [
            TransferRecord(transfer_id=row.transfer_id, status=row.status, created_at=row.created_at,
                           branch=row.branch, category=row.summary.get("category"), outcome=row.outcome,
                           events=tuple(events[row.transfer_id]), opened=frozenset(opened[row.transfer_id]),
                           csat=csat.get(row.transfer_id))
            for row in facts
        ]

    def feedback(self, scope: Scope) -> tuple[list[RepFeedbackRecord], list[ProspectFeedbackRecord]]:
        with self.db.read() as session:
            rows = session.exec(select(FeedbackRow).where(FeedbackRow.transfer_id.in_(_ids(scope)))).all()
        reps = [RepFeedbackRecord(transfer_id=r.transfer_id, rep_id=r.rep_id, at=r.at,
                                  context_helpful=r.data.get("context_helpful"),
                                  missing=tuple(r.data.get("missing") or ()),
                                  prospect_repeated=r.data.get("prospect_repeated"), improve=r.data.get("improve"))
                for r in rows if r.source == "rep"]
        prospects = [ProspectFeedbackRecord(transfer_id=r.transfer_id, at=r.at, csat=r.data["csat"],
                                            comment=r.data.get("comment"))
                     for r in rows if r.source == "prospect" and r.data.get("csat") is not None]
        return reps, prospects

    def promises(self, touched_since: datetime | None = None) -> list[Promise]:
        """The follow-ups promised by open transfers (not completed, cancelled or abandoned) and, with
        `touched_since`, by transfers updated since then: a promise that fell due since then belongs to a transfer
        that acted on it then (routed it, was taken over, ended) or that is still open."""
        which = TransferRow.status.not_in(FINAL_STATUSES)
        if touched_since is not None:
            which = or_(which, TransferRow.updated_at >= touched_since)
        ids = select(TransferRow.transfer_id).where(which)
        with self.db.read() as session:
            statuses = dict(session.exec(select(TransferRow.transfer_id, TransferRow.status).where(which)).all())
            events = session.exec(
                select(TransferEventRow.transfer_id, TransferEventRow.kind, TransferEventRow.at,
                       TransferEventRow.rep_id, TransferEventRow.data)
                .where(TransferEventRow.transfer_id.in_(ids), TransferEventRow.kind.in_(("follow_up", "connected")))
                .order_by(TransferEventRow.transfer_id, TransferEventRow.seq)).all()
        taken_over: dict[str, list[datetime]] = defaultdict(list)
        for transfer_id, kind, at, _, _ in events:
            if kind == "connected":
                taken_over[transfer_id].append(at)
        return [Promise(transfer_id=transfer_id, made_at=at, due=datetime.fromisoformat(data["due"]),
                        channel=data["channel"], owner=rep_id, status=statuses.get(transfer_id, ""),
                        taken_over_at=min((t for t in taken_over[transfer_id] if t >= at), default=None))
                for transfer_id, kind, at, rep_id, data in events if kind == "follow_up"]

    def queue(self, team: str | None = None) -> list[TeamQueue]:
        """The transfers waiting for a rep now, per team, in the order they will be served."""
        waiting = CapacityStore(self.db).waiting(team)
        with self.db.read() as session:
            ids = [q.transfer_id for q in waiting]
            summaries = dict(session.exec(select(TransferRow.transfer_id, TransferRow.summary)
                                          .where(TransferRow.transfer_id.in_(ids))).all())
        teams: dict[str, list[Waiting]] = defaultdict(list)
        for entry in waiting:
            summary = summaries.get(entry.transfer_id) or {}
            place = teams[entry.team]
            place.append(Waiting(transfer_id=entry.transfer_id, position=len(place) + 1, priority=entry.priority,
                                 since=entry.enqueued_at, prospect=summary.get("prospect"),
                                 company=summary.get("company")))
        return [TeamQueue(team=name, waiting=entries) for name, entries in sorted(teams.items())]


def _in_scope(query: Select, scope: Scope) -> Select:
    query = query.where(TransferRow.created_at >= scope.start, TransferRow.created_at < scope.end)
    if scope.team is not None:
        query = query.where(TransferRow.team == scope.team)
    if scope.rep is not None:
        query = query.where(TransferRow.rep_id == scope.rep)
    return query


def _ids(scope: Scope) -> Select:
    """The scope's transfer ids as a subquery, so related rows are read in one statement each."""
    return _in_scope(select(TransferRow.transfer_id), scope)


def _events(session: Session, scope: Scope) -> dict[str, list[Event]]:
    query = (select(TransferEventRow.transfer_id, TransferEventRow.kind, TransferEventRow.at, TransferEventRow.rep_id)
             .where(TransferEventRow.transfer_id.in_(_ids(scope)), TransferEventRow.kind.in_(EVENT_KINDS))
             .order_by(TransferEventRow.transfer_id, TransferEventRow.seq))
    events: dict[str, list[Event]] = defaultdict(list)
    for transfer_id, kind, at, rep_id in session.exec(query):
        events[transfer_id].append(Event(kind=kind, at=at, rep_id=rep_id))
    return events


def _opened(session: Session, scope: Scope) -> dict[str, set[tuple[str, str]]]:
    query = select(UsageRow.transfer_id, UsageRow.rep_id, UsageRow.item).where(UsageRow.transfer_id.in_(_ids(scope)))
    opened: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for transfer_id, rep_id, item in session.exec(query):
        opened[transfer_id].add((rep_id, item))
    return opened


def _csat(session: Session, scope: Scope) -> dict[str, int]:
    query = select(FeedbackRow.transfer_id, FeedbackRow.data).where(
        FeedbackRow.transfer_id.in_(_ids(scope)), FeedbackRow.source == "prospect")
    return {transfer_id: data["csat"] for transfer_id, data in session.exec(query) if data.get("csat") is not None}
