"""Seats and the queue, decided together so no rep exceeds capacity and the queue stays fair.

Every transfer that needs a rep joins the queue, and `dispatch` pairs queue heads (priority, then
arrival) with the best rep who can take them now. A seat row is the assignment: it is inserted only
while the rep's seats are counted inside the same serialised transaction, so racing transfers can
never overbook the last seat.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import delete, func
from sqlmodel import Session, select

from domain.requests import Routing
from domain.routing import can_take_now, eligible, on_shift, rank
from store.db import Database
from store.reps import rep_state, states_of_team
from store.tables import QueueRow, RepRow, SeatRow

_PG_CAPACITY_LOCK = 7_263_001  # one advisory lock serialises routing decisions on PostgreSQL


class Assignment(BaseModel):
    transfer_id: str
    rep_id: str


class QueueChange(BaseModel):
    """What a capacity decision changed for other transfers, so they can be told at once."""

    handed_over: list[Assignment] = []  # transfers this decision gave a seat to
    moved: list[str] = []  # transfers still waiting whose place in the queue changed

    def to_wake(self, besides: str | None = None) -> list[str]:
        ids = [a.transfer_id for a in self.handed_over] + self.moved
        return [t for t in dict.fromkeys(ids) if t != besides]


class Placement(QueueChange):
    """Where a transfer stands: holding a seat with a rep, or waiting at a place in the queue."""

    rep_id: str | None = None
    position: int | None = None
    seats_on_shift: int = 0


class CapacityStore:
    def __init__(self, db: Database):
        self.db = db

    def place(self, transfer_id: str, routing: Routing, now: datetime, exclude: Collection[str] = ()) -> Placement:
        """Queue the transfer (idempotent) and run dispatch; it gets a seat at once if it is first in line."""
        with self._serialised() as session:
            before = _positions(session)
            seat = session.get(SeatRow, transfer_id)
            queued = session.get(QueueRow, transfer_id)
            wanted = {**routing.model_dump(mode="json"), "exclude": sorted(exclude)}
            if seat is None and queued is None:
                last_arrival = session.exec(select(func.max(QueueRow.arrival))).one()
                session.add(QueueRow(transfer_id=transfer_id, team=routing.team or "", priority=routing.priority,
                                     routing=wanted, arrival=(last_arrival or 0) + 1, enqueued_at=now))
                session.flush()
            elif queued is not None and queued.routing != wanted:  # keeps its place; who it avoids may change
                queued.routing = wanted
                session.add(queued)
                session.flush()
            change = _change(session, before, _dispatch(session, now))
            return _placement(session, transfer_id, routing, now, change)

    def reserve(self, transfer_id: str, rep_id: str, now: datetime) -> bool:
        """Take a seat with one named rep (a colleague deferred to, a follow-up owner) if they have one free."""
        with self._serialised() as session:
            seat = session.get(SeatRow, transfer_id)
            if seat is not None:
                return seat.rep_id == rep_id
            state = rep_state(session, rep_id)
            if state is None or state.presence != "available" or state.free_seats == 0:
                return False
            _seat(session, transfer_id, rep_id, now)
            return True

    def release(self, transfer_id: str, now: datetime) -> QueueChange:
        """Free the transfer's seat and queue place (idempotent) and hand freed seats to the queue."""
        with self._serialised() as session:
            before = _positions(session)
            session.exec(delete(SeatRow).where(SeatRow.transfer_id == transfer_id))
            session.exec(delete(QueueRow).where(QueueRow.transfer_id == transfer_id))
            session.flush()
            return _change(session, before, _dispatch(session, now))

    def dispatch(self, now: datetime) -> QueueChange:
        """Hand free seats to waiting transfers: after presence or capacity changes, and as a safety net."""
        with self._serialised() as session:
            before = _positions(session)
            return _change(session, before, _dispatch(session, now))

    def status(self, transfer_id: str, routing: Routing, now: datetime) -> Placement | None:
        # Serialised too: on PostgreSQL each statement of a plain transaction sees newer commits, so a
        # dispatch between "is it queued?" and "where in the queue?" would make the answer inconsistent.
        with self._serialised() as session:
            if session.get(SeatRow, transfer_id) is None and session.get(QueueRow, transfer_id) is None:
                return None
            return _placement(session, transfer_id, routing, now, QueueChange())

    def seat_holder(self, transfer_id: str) -> str | None:
        with self.db.read() as session:
            seat = session.get(SeatRow, transfer_id)
            return seat.rep_id if seat else None

    def waiting(self, team: str | None = None) -> list[QueueRow]:
        with self.db.read() as session:
            return [q for q in _ordered_queue(session) if team is None or q.team == team]

    @contextmanager
    def _serialised(self) -> Iterator[Session]:
        """One capacity decision at a time, taken before anything is read."""
        with self.db.locked() as session:
            if not self.db.is_sqlite:  # SQLite's locked() is BEGIN IMMEDIATE, serialised already
                session.exec(select(func.pg_advisory_xact_lock(_PG_CAPACITY_LOCK)))
            yield session


def _ordered_queue(session: Session) -> list[QueueRow]:
    query = select(QueueRow).order_by(QueueRow.priority.desc(), QueueRow.arrival)
    return list(session.exec(query).all())


def _positions(session: Session) -> dict[str, int]:
    """Each waiting transfer's place in its team's queue, 1-based."""
    places: dict[str, int] = {}
    per_team: dict[str, int] = {}
    for entry in _ordered_queue(session):
        per_team[entry.team] = per_team.get(entry.team, 0) + 1
        places[entry.transfer_id] = per_team[entry.team]
    return places


def _change(session: Session, before: dict[str, int], handed: list[Assignment]) -> QueueChange:
    moved = [t for t, place in _positions(session).items() if t in before and before[t] != place]
    return QueueChange(handed_over=handed, moved=moved)


def _dispatch(session: Session, now: datetime) -> list[Assignment]:
    states = {s.profile.id: s for s in states_of_team(session, None) if can_take_now(s, now)}
    handed: list[Assignment] = []
    for entry in _ordered_queue(session):
        if not states:
            break
        routing = Routing.model_validate({k: v for k, v in entry.routing.items() if k != "exclude"})
        best = rank(list(states.values()), routing, now, exclude=entry.routing.get("exclude", ()))
        if not best:
            continue
        rep = best[0]
        _seat(session, entry.transfer_id, rep.profile.id, now)
        handed.append(Assignment(transfer_id=entry.transfer_id, rep_id=rep.profile.id))
        rep = rep.model_copy(update={"active": rep.active + 1})
        if rep.free_seats > 0:
            states[rep.profile.id] = rep
        else:
            del states[rep.profile.id]
    session.flush()
    return handed


def _seat(session: Session, transfer_id: str, rep_id: str, now: datetime) -> None:
    """A seat ends the wait: a transfer is seated or queued, never both (or dispatch would seat it twice)."""
    session.exec(delete(QueueRow).where(QueueRow.transfer_id == transfer_id))
    session.add(SeatRow(transfer_id=transfer_id, rep_id=rep_id, reserved_at=now))
    rep = session.get(RepRow, rep_id)
    rep.last_assigned_at = now
    session.add(rep)


def _placement(session: Session, transfer_id: str, routing: Routing, now: datetime,
               change: QueueChange) -> Placement:
    on_shift_seats = sum(s.profile.capacity for s in states_of_team(session, routing.team)
                         if on_shift(s, now) and eligible(s.profile, routing))
    others = QueueChange(handed_over=[a for a in change.handed_over if a.transfer_id != transfer_id],
                         moved=[t for t in change.moved if t != transfer_id])
    seat = session.get(SeatRow, transfer_id)
    if seat is not None:
        return Placement(rep_id=seat.rep_id, seats_on_shift=on_shift_seats, **others.model_dump())
    position = _positions(session)[transfer_id]
    return Placement(position=position, seats_on_shift=on_shift_seats, **others.model_dump())
