"""Seats and the queue, decided together so no rep exceeds capacity and the queue stays fair.

Every transfer that needs a rep joins the queue, and `dispatch` pairs queue heads (priority, then
arrival) with the best rep who can take them now. A seat row is the assignment: it is inserted only
while the rep's seats are counted inside the same serialised transaction, so racing transfers can
never overbook the last seat.

At scale (thousands of reps, thousands waiting) a decision reads only what it needs: the reps with a
free seat (filtered in SQL on presence, team and RepRow.active < capacity; hours checked in Python on
that handful), the queue from its head and only for teams that have such reps, and for "who moved",
just the entries behind the ones that joined or left a team's line.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import and_, delete, func, or_, true, update
from sqlmodel import Session, select

from domain.requests import Routing
from domain.routing import ShiftClock, best_free
from store.db import Database
from store.reps import FreeReps, rep_state, seats_on_shift, teams_with_free_seats
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
            line = _LineEdits()
            seated = session.exec(select(SeatRow.rep_id).where(SeatRow.transfer_id == transfer_id)).first()
            queued = session.get(QueueRow, transfer_id)
            wanted = {**routing.model_dump(mode="json"), "exclude": sorted(exclude)}
            team = routing.team or ""
            if seated is None and queued is None:
                last_arrival = session.exec(select(func.max(QueueRow.arrival))).one()
                entry = QueueRow(transfer_id=transfer_id, team=team, priority=routing.priority,
                                 routing=wanted, arrival=(last_arrival or 0) + 1, enqueued_at=now)
                session.add(entry)
                session.flush()
                line.joined(entry)
            elif queued is not None and queued.routing != wanted:  # keeps its place; who it avoids may change
                if queued.team != team:  # a new team: same arrival, in that team's line (dispatch reads the team)
                    line.left(queued)
                    queued.team = team
                    line.joined(queued)
                queued.routing = wanted
                session.add(queued)
                session.flush()
            handed = _dispatch(session, now, line)
            mine = [a.rep_id for a in handed if a.transfer_id == transfer_id]
            seated = mine[0] if mine else seated
            return _placement(session, transfer_id, routing, now, line.change(session, handed), seated)

    def reserve(self, transfer_id: str, rep_id: str, now: datetime) -> bool:
        """Take a seat with one named rep (a colleague deferred to, a follow-up owner) if they have one free."""
        with self._serialised() as session:
            seated = session.exec(select(SeatRow.rep_id).where(SeatRow.transfer_id == transfer_id)).first()
            if seated is not None:
                return seated == rep_id
            state = rep_state(session, rep_id)
            if state is None or state.presence != "available" or state.free_seats == 0:
                return False
            _seat(session, transfer_id, rep_id, now)
            return True

    def release(self, transfer_id: str, now: datetime) -> QueueChange:
        """Free the transfer's seat and queue place (idempotent) and hand freed seats to the queue."""
        with self._serialised() as session:
            line = _LineEdits()
            seated = session.exec(select(SeatRow.rep_id).where(SeatRow.transfer_id == transfer_id)).first()
            if seated is not None:
                session.exec(delete(SeatRow).where(SeatRow.transfer_id == transfer_id))
                session.exec(update(RepRow).where(RepRow.id == seated).values(active=RepRow.active - 1))
            queued = session.get(QueueRow, transfer_id)
            if queued is not None:
                line.left(queued)
                session.delete(queued)
            session.flush()
            return line.change(session, _dispatch(session, now, line))

    def dispatch(self, now: datetime) -> QueueChange:
        """Hand free seats to waiting transfers: after presence or capacity changes, and as a safety net."""
        with self._serialised() as session:
            line = _LineEdits()
            return line.change(session, _dispatch(session, now, line))

    def status(self, transfer_id: str, routing: Routing, now: datetime) -> Placement | None:
        # Serialised too: on PostgreSQL each statement of a plain transaction sees newer commits, so a
        # dispatch between "is it queued?" and "where in the queue?" would make the answer inconsistent.
        with self._serialised() as session:
            if session.get(SeatRow, transfer_id) is None and session.get(QueueRow, transfer_id) is None:
                return None
            seated = session.exec(select(SeatRow.rep_id).where(SeatRow.transfer_id == transfer_id)).first()
            return _placement(session, transfer_id, routing, now, QueueChange(), seated)

    def seat_holder(self, transfer_id: str) -> str | None:
        with self.db.read() as session:
            seat = session.get(SeatRow, transfer_id)
            return seat.rep_id if seat else None

    def waiting(self, team: str | None = None) -> list[QueueRow]:
        with self.db.read() as session:
            query = select(QueueRow).order_by(QueueRow.priority.desc(), QueueRow.arrival)
            if team is not None:
                query = query.where(QueueRow.team == team)
            return list(session.exec(query).all())

    @contextmanager
    def _serialised(self) -> Iterator[Session]:
        """One capacity decision at a time, taken before anything is read."""
        with self.db.locked() as session:
            if not self.db.is_sqlite:  # SQLite's locked() is BEGIN IMMEDIATE, serialised already
                session.exec(select(func.pg_advisory_xact_lock(_PG_CAPACITY_LOCK)))
            yield session


def _in_line_order(query):  # noqa: ANN001, ANN202 - a select over QueueRow
    return query.order_by(QueueRow.priority.desc(), QueueRow.arrival)


def _after(priority: int, arrival: int):  # noqa: ANN202 - a SQL condition
    """Queue entries served after the one at (priority, arrival): lower priority, or equal and later."""
    queue = QueueRow.__table__.c
    return or_(queue.priority < priority, and_(queue.priority == priority, queue.arrival > arrival))


def _before(priority: int, arrival: int):  # noqa: ANN202 - a SQL condition
    queue = QueueRow.__table__.c
    return or_(queue.priority > priority, and_(queue.priority == priority, queue.arrival < arrival))


@dataclass
class _LineEdits:
    """Entries that joined (+1) or left (-1) a team's line during one decision, to tell who moved.

    A waiting transfer's place is 1 + the entries ahead of it in its team's line, so it changed exactly
    when the joins and leaves ahead of it do not cancel out: only entries behind an edit need reading.
    """

    edits: dict[str, dict[tuple[int, int], int]] = field(default_factory=dict)  # team -> (-prio, arrival) -> +-n
    joiners: set[str] = field(default_factory=set)

    def joined(self, entry: QueueRow) -> None:
        self._edit(entry, +1)
        self.joiners.add(entry.transfer_id)

    def left(self, entry: QueueRow) -> None:
        self._edit(entry, -1)

    def _edit(self, entry: QueueRow, delta: int) -> None:
        per_team = self.edits.setdefault(entry.team, {})
        key = (-entry.priority, entry.arrival)
        per_team[key] = per_team.get(key, 0) + delta

    def change(self, session: Session, handed: list[Assignment]) -> QueueChange:
        session.flush()
        queue = QueueRow.__table__.c
        moved: list[tuple[int, int, str]] = []
        for team, per_team in self.edits.items():
            keys = sorted(k for k, delta in per_team.items() if delta)
            total = 0
            for n, key in enumerate(keys):  # from each edit up to the next, where those ahead do not cancel out
                total += per_team[key]
                if not total:
                    continue
                span = select(queue.priority, queue.arrival, queue.transfer_id).where(
                    queue.team == team, _after(-key[0], key[1]),
                    _before(-keys[n + 1][0], keys[n + 1][1]) if n + 1 < len(keys) else true())
                moved += session.connection().execute(span).all()
        moved.sort(key=lambda row: (-row[0], row[1]))  # line order across teams
        return QueueChange(handed_over=handed, moved=[t for _, _, t in moved if t not in self.joiners])


def _dispatch(session: Session, now: datetime, line: _LineEdits) -> list[Assignment]:
    """Walk the queue from its head, giving each entry the best free rep for it, until no rep is free.

    Only entries of teams that still have a rep who can take one now (and team-less ones) are read, a
    batch at a time; for each, reps are read best first only until no later one could be better.
    """
    clock = ShiftClock(now)
    live = teams_with_free_seats(session, clock)
    # Teams where reading found nobody who can take one after all (on PostgreSQL a presence change may
    # commit mid-decision): their entries are not read again in this decision.
    nobody_free: set[str] = set()
    handed: list[Assignment] = []
    cursor: tuple[int, int] | None = None
    batch = 16
    while live:
        query = select(QueueRow).where(QueueRow.team.in_([*live, ""]))
        if cursor is not None:
            query = query.where(_after(*cursor))
        entries = session.exec(_in_line_order(query).limit(batch)).all()
        for entry in entries:
            wanted = entry.routing
            team = wanted.get("team")
            if team is not None and team not in live:
                continue
            routing = Routing.model_validate({k: v for k, v in wanted.items() if k != "exclude"})
            preferred = rep_state(session, routing.preferred_rep_id) if routing.preferred_rep_id else None
            free = FreeReps(session, team, clock, first=preferred)
            rep = best_free(free, routing, clock, exclude=wanted.get("exclude", ()))
            if rep is None:
                if free.exhausted and free.seen == 0:
                    nobody_free |= live if team is None else {team}
                    live -= nobody_free
                    if not live:
                        break
                continue
            line.left(entry)
            _seat(session, entry.transfer_id, rep.profile.id, now)
            handed.append(Assignment(transfer_id=entry.transfer_id, rep_id=rep.profile.id))
            if rep.active + 1 >= rep.profile.capacity:  # that was their last free seat
                live = teams_with_free_seats(session, clock) - nobody_free
                if not live:
                    break
        if len(entries) < batch:
            break
        cursor = (entries[-1].priority, entries[-1].arrival)
        batch = min(batch * 4, 1024)
    session.flush()
    return handed


def _seat(session: Session, transfer_id: str, rep_id: str, now: datetime) -> None:
    """A seat ends the wait: a transfer is seated or queued, never both (or dispatch would seat it twice)."""
    session.exec(delete(QueueRow).where(QueueRow.transfer_id == transfer_id))
    session.add(SeatRow(transfer_id=transfer_id, rep_id=rep_id, reserved_at=now))
    session.exec(update(RepRow).where(RepRow.id == rep_id).values(last_assigned_at=now, active=RepRow.active + 1))


def _placement(session: Session, transfer_id: str, routing: Routing, now: datetime,
               change: QueueChange, seated: str | None) -> Placement:
    """Where the transfer stands: seated with rep `seated`, or (None) waiting in its team's line."""
    on_shift_seats = seats_on_shift(session, routing, ShiftClock(now))
    others = QueueChange(handed_over=[a for a in change.handed_over if a.transfer_id != transfer_id],
                         moved=[t for t in change.moved if t != transfer_id])
    if seated is not None:
        return Placement(rep_id=seated, seats_on_shift=on_shift_seats, **others.model_dump())
    entry = session.get(QueueRow, transfer_id)
    ahead = select(func.count()).select_from(QueueRow).where(QueueRow.team == entry.team,
                                                             _before(entry.priority, entry.arrival))
    return Placement(position=session.exec(ahead).one() + 1, seats_on_shift=on_shift_seats, **others.model_dump())
