"""Seats and the queue, decided together so no rep exceeds capacity and the queue stays fair.

Every transfer that needs a rep joins the queue, and `dispatch` pairs queue heads (priority, then
arrival) with the best rep who can take them now. A seat row is the assignment: it is inserted only
while the rep's seats are counted inside the same serialised transaction, so racing transfers can
never overbook the last seat.

At scale (thousands of reps, thousands waiting) a decision reads only what it needs: the reps with a
free seat (filtered in SQL on presence, team and RepRow.active < capacity; hours checked in Python on
that handful), the queue from its head and only for teams that have such reps, and for "who moved",
just the entries behind the ones that joined or left a team's line.

Decisions run plain SQL statements on the transaction's connection, each built once with bound
parameters (the ORM's identity map, flushes and per-call statement building cost more than the
database work), and read what they can together: where a transfer stands is one read.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Connection, Text, and_, bindparam, cast, delete, func, insert, literal_column, or_, update
from sqlalchemy.engine import CursorResult
from sqlmodel import select

from domain.placement import Assignment, Placement, QueueChange
from domain.reps import RepState
from domain.requests import Routing
from domain.routing import ShiftClock, best_free
from store.db import Database
from store.portable import UtcDateTime
from store.reps import FreeReps, rep_state, seats_on_shift, teams_with_free_seats
from store.tables import QueueRow, RepRow, SeatRow

_PG_CAPACITY_LOCK = 7_263_001  # one advisory lock serialises routing decisions on PostgreSQL


class _Entry(NamedTuple):
    """A queue entry as decisions read it; `routing` is the stored JSON text, which keys its parse."""

    transfer_id: str
    team: str
    priority: int
    arrival: int
    routing: str


_queue, _seats, _reps = QueueRow.__table__.c, SeatRow.__table__.c, RepRow.__table__.c
_ENTRY_COLUMNS = (_queue.transfer_id, _queue.team, _queue.priority, _queue.arrival, cast(_queue.routing, Text))


def _after(priority, arrival):  # SQL expressions in, a SQL condition out
    """Queue entries served after the one at (priority, arrival): lower priority, or equal and later."""
    return or_(_queue.priority < priority, and_(_queue.priority == priority, _queue.arrival > arrival))


def _before(priority, arrival):
    return or_(_queue.priority > priority, and_(_queue.priority == priority, _queue.arrival < arrival))


# Where a transfer stands, in one read: its seat's rep, its queue entry, and the queue's last arrival
# (None when nobody waits). Outer joins from a one-row table, so the row is there whatever is missing.
_entry = QueueRow.__table__.alias("entry")
_STANDING = (
    select(_seats.rep_id, _entry.c.transfer_id, _entry.c.team, _entry.c.priority, _entry.c.arrival,
           cast(_entry.c.routing, Text), select(func.max(_queue.arrival)).correlate(None).scalar_subquery())
    .select_from(select(literal_column("1").label("one")).subquery()
                 .outerjoin(SeatRow.__table__, _seats.transfer_id == bindparam("transfer_id"))
                 .outerjoin(_entry, _entry.c.transfer_id == bindparam("transfer_id"))))
_JOIN_QUEUE = insert(QueueRow.__table__)
_REROUTE = (update(QueueRow.__table__).where(_queue.transfer_id == bindparam("rerouted"))
            .values(team=bindparam("new_team"), language=bindparam("new_language"),
                    routing=bindparam("new_routing", type_=_queue.routing.type)))
# Entries whose routing names a rep (its exclusions among them); narrowed in Python, as LIKE reads "_" as any one.
_MENTIONING = select(_queue.transfer_id, cast(_queue.routing, Text)).where(
    cast(_queue.routing, Text).like(bindparam("quoted")))
_AVOIDING = (update(QueueRow.__table__).where(_queue.transfer_id == bindparam("entry"))
             .values(routing=bindparam("narrowed", type_=_queue.routing.type)))
_LEAVE_QUEUE = delete(QueueRow.__table__).where(_queue.transfer_id == bindparam("transfer_id"))
_TAKE_SEAT = insert(SeatRow.__table__).values(transfer_id=bindparam("transfer_id"), rep_id=bindparam("rep_id"),
                                               reserved_at=bindparam("now", type_=UtcDateTime()))
_COUNT_SEAT = (update(RepRow.__table__).where(_reps.id == bindparam("rep_id"))
               .values(active=_reps.active + 1, last_assigned_at=bindparam("now", type_=UtcDateTime())))
# On PostgreSQL the three as one statement (data-modifying WITH): one round trip instead of three.
_SEAT_AT_ONCE = _COUNT_SEAT.add_cte(_LEAVE_QUEUE.cte("left_queue"), _TAKE_SEAT.cte("seat"))
_FREE_SEAT = delete(SeatRow.__table__).where(_seats.transfer_id == bindparam("transfer_id"))
_UNCOUNT_SEAT = update(RepRow.__table__).where(_reps.id == bindparam("rep_id")).values(active=_reps.active - 1)
# The line from its head, for the teams that have a rep who can take one now (and team-less entries), in
# the languages such reps speak (and language-less entries): along ix_queue_head, which holds both. The
# team is tested as (team || ''), not as a column an index can look up: SQLite, given `team IN`, read the
# teams' entries by ix_queue_team_order and sorted them all, however few the batch wanted.
_LINE = (select(*_ENTRY_COLUMNS).where(_queue.team.concat(literal_column("''")).in_(bindparam("teams", expanding=True)),
                                       _queue.language.in_(bindparam("languages", expanding=True)))
         .order_by(_queue.priority.desc(), _queue.arrival).limit(bindparam("size")))
_LINE_AFTER = _LINE.where(_after(bindparam("priority"), bindparam("arrival")))
_AHEAD = select(func.count()).select_from(QueueRow.__table__).where(
    _queue.team == bindparam("team"), _before(bindparam("priority"), bindparam("arrival")))
# The entries of a team's line from just after one edit to just before the next (or to its end).
# Rows are (-priority, arrival, transfer_id), in line order along ix_queue_team_order: spans of several
# teams merge by plain tuple order.
_SPAN_TO_END = (select(-_queue.priority, _queue.arrival, _queue.transfer_id)
                .where(_queue.team == bindparam("team"), _after(bindparam("priority"), bindparam("arrival")))
                .order_by(_queue.priority.desc(), _queue.arrival))
_SPAN = _SPAN_TO_END.where(_before(bindparam("next_priority"), bindparam("next_arrival")))
# By [one team's line changed][the span runs to the line's end]. With one team (nearly always) the spans
# need no merging, so only the ids are read.
_SPANS = {False: (_SPAN, _SPAN_TO_END),
          True: (_SPAN.with_only_columns(_queue.transfer_id), _SPAN_TO_END.with_only_columns(_queue.transfer_id))}
_PG_LOCK = select(func.pg_advisory_xact_lock(_PG_CAPACITY_LOCK))


class CapacityStore:
    def __init__(self, db: Database):
        self.db = db

    def place(self, transfer_id: str, routing: Routing, now: datetime, exclude: Collection[str] = ()) -> Placement:
        """Queue the transfer (idempotent) and run dispatch; it gets a seat at once if it is first in line."""
        with self._serialised() as connection:
            line = _LineEdits()
            seated, queued, last_arrival = _standing(connection, transfer_id)
            wanted = {**routing.model_dump(mode="json"), "exclude": sorted(exclude)}
            team = routing.team or ""
            clock = ShiftClock(now)
            entry = queued
            if seated is None and queued is None:
                entry = _Entry(transfer_id, team, routing.priority, (last_arrival or 0) + 1, "")
                if last_arrival is None:
                    return _place_alone(connection, entry, routing, wanted, clock)
                _join_queue(connection, entry, wanted, now)
                line.joined(entry)
            elif queued is not None and json.loads(queued.routing) != wanted:  # keeps its place; exclusions may change
                if queued.team != team:  # a new team: same arrival, in that team's line (dispatch reads the team)
                    line.left(queued)
                    entry = queued._replace(team=team)
                    line.joined(entry)
                connection.execute(_REROUTE, {"rerouted": transfer_id, "new_team": team,
                                              "new_language": routing.language or "", "new_routing": wanted})
            handed = _dispatch(connection, clock, line)
            mine = [a.rep_id for a in handed if a.transfer_id == transfer_id]
            seated = mine[0] if mine else seated
            return _placement(connection, transfer_id, routing, clock, line.change(connection, handed), seated, entry)

    def reserve(self, transfer_id: str, rep_id: str, now: datetime) -> bool:
        """Take a seat with one named rep (a colleague deferred to, a follow-up owner) if they have one free."""
        with self._serialised() as connection:
            seated, _, _ = _standing(connection, transfer_id)
            if seated is not None:
                return seated == rep_id
            state = rep_state(connection, rep_id)
            if state is None or state.presence != "available" or state.free_seats == 0:
                return False
            _seat(connection, transfer_id, rep_id, now)
            return True

    def release(self, transfer_id: str, now: datetime) -> QueueChange:
        """Free the transfer's seat and queue place (idempotent) and hand freed seats to the queue."""
        with self._serialised() as connection:
            line = _LineEdits()
            seated, queued, last_arrival = _standing(connection, transfer_id)
            if seated is not None:
                connection.execute(_FREE_SEAT, {"transfer_id": transfer_id})
                connection.execute(_UNCOUNT_SEAT, {"rep_id": seated})
            if queued is not None:
                line.left(queued)
                connection.execute(_LEAVE_QUEUE, {"transfer_id": transfer_id})
            if last_arrival is None:  # nobody waits: no seat to hand over, nobody to move
                return QueueChange()
            return line.change(connection, _dispatch(connection, ShiftClock(now), line))

    def dispatch(self, now: datetime, available: str | None = None) -> QueueChange:
        """Hand free seats to waiting transfers: after presence or capacity changes, and as a safety net.
        `available`: a rep who has just made themselves available, whom waiting transfers stop passing over."""
        with self._serialised() as connection:
            if available is not None:
                _stop_passing_over(connection, available)
            line = _LineEdits()
            return line.change(connection, _dispatch(connection, ShiftClock(now), line))

    def status(self, transfer_id: str, routing: Routing, now: datetime) -> Placement | None:
        # Serialised too: on PostgreSQL each statement of a plain transaction sees newer commits, so a
        # dispatch between "is it queued?" and "where in the queue?" would make the answer inconsistent.
        with self._serialised() as connection:
            seated, queued, _ = _standing(connection, transfer_id)
            if seated is None and queued is None:
                return None
            return _placement(connection, transfer_id, routing, ShiftClock(now), QueueChange(), seated, queued)

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
    def _serialised(self) -> Iterator[Connection]:
        """One capacity decision at a time, taken before anything is read."""
        with self.db.locked() as session:
            connection = session.connection()
            if not self.db.is_sqlite:  # SQLite's locked() is BEGIN IMMEDIATE, serialised already
                connection.execute(_PG_LOCK)
            yield connection


def _standing(connection: Connection, transfer_id: str) -> tuple[str | None, _Entry | None, int | None]:
    """The rep whose seat the transfer holds, its queue entry, and the queue's last arrival."""
    seated, queued_id, *entry, last_arrival = connection.execute(_STANDING, {"transfer_id": transfer_id}).one()
    return seated, _Entry(queued_id, *entry) if queued_id is not None else None, last_arrival


def _stop_passing_over(connection: Connection, rep_id: str) -> None:
    """Drop the rep from the reps queue entries avoid. An entry avoids the reps who let its offer lapse or declined
    it, until its transfer next looks again (minutes, deep in a queue); a rep who says they are available again is
    ready for it now."""
    rows = connection.execute(_MENTIONING, {"quoted": f'%{json.dumps(rep_id)}%'}).all()
    for transfer_id, routing_json in rows:
        wanted = json.loads(routing_json)
        if rep_id in wanted.get("exclude", ()):
            wanted["exclude"] = [other for other in wanted["exclude"] if other != rep_id]
            connection.execute(_AVOIDING, {"entry": transfer_id, "narrowed": wanted})


@lru_cache(maxsize=8192)
def _wanted(routing_json: str) -> tuple[Routing, tuple[str, ...]]:
    """A queue entry's routing and the reps it avoids, parsed once per stored text (most entries are read
    by many decisions while they wait)."""
    wanted = json.loads(routing_json)
    exclude = tuple(wanted.pop("exclude", ()))
    return Routing.model_validate(wanted), exclude


@dataclass
class _LineEdits:
    """Entries that joined (+1) or left (-1) a team's line during one decision, to tell who moved.

    A waiting transfer's place is 1 + the entries ahead of it in its team's line, so it changed exactly
    when the joins and leaves ahead of it do not cancel out: only entries behind an edit need reading.
    """

    edits: dict[str, dict[tuple[int, int], int]] = field(default_factory=dict)  # team -> (-prio, arrival) -> +-n
    joiners: set[str] = field(default_factory=set)

    def joined(self, entry: _Entry) -> None:
        self._edit(entry, +1)
        self.joiners.add(entry.transfer_id)

    def left(self, entry: _Entry) -> None:
        self._edit(entry, -1)

    def _edit(self, entry: _Entry, delta: int) -> None:
        per_team = self.edits.setdefault(entry.team, {})
        key = (-entry.priority, entry.arrival)
        per_team[key] = per_team.get(key, 0) + delta

    def change(self, connection: Connection, handed: list[Assignment]) -> QueueChange:
        # Behind each edit, up to the next, the places changed unless the edits so far cancel out: a run of
        # such spans is read at once (what sits at an edit inside it either left or is a joiner, not told).
        # A team's runs come in line order, one after the other; several teams' interleave, so then they
        # are read with their place in line and merged.
        one_team = len(self.edits) == 1
        moved: list[tuple] = []
        for team, per_team in self.edits.items():
            total, start = 0, None
            for key in sorted(k for k, delta in per_team.items() if delta):
                total += per_team[key]
                if total and start is None:
                    start = key
                elif not total and start is not None:
                    moved += self._read(connection, one_team, team, start, key)
                    start = None
            if start is not None:
                moved += self._read(connection, one_team, team, start, None)
        if not one_team:
            moved.sort()
        return QueueChange(handed_over=handed, moved=[row[-1] for row in moved if row[-1] not in self.joiners])

    @staticmethod
    def _read(connection: Connection, one_team: bool, team: str, after: tuple[int, int],
              before: tuple[int, int] | None) -> list[tuple]:
        """The team's entries between two edits (or to the line's end), each edit's entry left out."""
        span = {"team": team, "priority": -after[0], "arrival": after[1]}
        if before is not None:
            span |= {"next_priority": -before[0], "next_arrival": before[1]}
        return _plain_rows(connection.execute(_SPANS[one_team][before is None], span))


def _plain_rows(result: CursorResult) -> list[tuple]:
    """A result's rows as the driver gives them, plain tuples. For the thousands of entries behind a change
    to a long line, building SQLAlchemy Rows took twice as long as the database's whole work."""
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _dispatch(connection: Connection, clock: ShiftClock, line: _LineEdits) -> list[Assignment]:
    """Walk the queue from its head, giving each entry the best free rep for it, until no rep is free.

    Only entries of teams that still have a rep who can take one now (and team-less ones), in a language
    such a rep speaks (or none), are read, a batch at a time: an entry no free rep could take is passed
    over in SQL. For each entry read, reps are read best first only until no later one could be better.
    """
    # team -> languages spoken by its reps who can take one now
    live = teams_with_free_seats(connection, clock)
    free = FreeReps(connection, clock)
    # Teams where reading found nobody who can take one after all (on PostgreSQL a presence change may
    # commit mid-decision): their entries are not read again in this decision.
    nobody_free: set[str] = set()
    handed: list[Assignment] = []
    cursor: _Entry | None = None
    batch = 16
    while live:
        params = {"teams": [*live, ""], "languages": [*set().union(*live.values()), ""], "size": batch}
        if cursor is not None:
            params |= {"priority": cursor.priority, "arrival": cursor.arrival}
        entries = [_Entry(*row) for row in connection.execute(_LINE if cursor is None else _LINE_AFTER, params)]
        for entry in entries:
            routing, exclude = _wanted(entry.routing)
            team = routing.team
            if team is not None and team not in live:
                continue
            rep = _best_rep(free, routing, exclude, clock)
            if rep is None:
                if free.nobody_free(team):
                    nobody_free |= set(live) if team is None else {team}
                    live = {t: spoken for t, spoken in live.items() if t not in nobody_free}
                    if not live:
                        break
                continue
            line.left(entry)
            _seat(connection, entry.transfer_id, rep.profile.id, clock.now)
            free.forget()
            handed.append(Assignment(transfer_id=entry.transfer_id, rep_id=rep.profile.id))
            if rep.active + 1 >= rep.profile.capacity:  # that was their last free seat
                live = {t: spoken for t, spoken in teams_with_free_seats(connection, clock).items()
                        if t not in nobody_free}
                if not live:
                    break
        if len(entries) < batch:
            break
        cursor = entries[-1]
        batch = min(batch * 4, 1024)
    return handed


def _place_alone(connection: Connection, entry: _Entry, routing: Routing, wanted: dict,
                 clock: ShiftClock) -> Placement:
    """Place a new transfer while nobody else waits. Dispatch would only look for this transfer's rep, so
    look for it directly, and queue the transfer only when there is none: nobody else's place changes."""
    rep = _best_rep(FreeReps(connection, clock), routing, wanted["exclude"], clock)
    seated = rep.profile.id if rep is not None else None
    if seated is None:
        _join_queue(connection, entry, wanted, clock.now)
    else:
        _seat(connection, entry.transfer_id, seated, clock.now, queued=False)
    return _placement(connection, entry.transfer_id, routing, clock, QueueChange(), seated, entry)


def _best_rep(free: FreeReps, routing: Routing, exclude: Collection[str], clock: ShiftClock) -> RepState | None:
    preferred = free.state_of(routing.preferred_rep_id) if routing.preferred_rep_id else None
    if not (routing.skills or routing.language) or free.few_free(routing.team):
        return best_free(free.best_first(routing.team, first=preferred), routing, clock, exclude=exclude)
    # Many reps have room, and the transfer wants skills or a language that few of them may have. Rather than
    # read them all best first, read them in rank's order for this routing: the first who can take it (the
    # preferred rep aside, who comes before everyone when they can) is the best.
    if preferred is not None and best_free([[preferred]], routing, clock, exclude=exclude) is preferred:
        return preferred
    for batch in free.matching(routing, exclude):
        rep = best_free([batch], routing, clock, exclude=exclude)
        if rep is not None:
            return rep
    return None


def _join_queue(connection: Connection, entry: _Entry, wanted: dict, now: datetime) -> None:
    connection.execute(_JOIN_QUEUE, {"transfer_id": entry.transfer_id, "team": entry.team, "priority": entry.priority,
                                     "language": wanted["language"] or "", "routing": wanted, "arrival": entry.arrival,
                                     "enqueued_at": now})


def _seat(connection: Connection, transfer_id: str, rep_id: str, now: datetime, queued: bool = True) -> None:
    """A seat ends the wait: a transfer is seated or queued, never both (or dispatch would seat it twice)."""
    params = {"transfer_id": transfer_id, "rep_id": rep_id, "now": now}
    if connection.dialect.name == "postgresql":
        connection.execute(_SEAT_AT_ONCE, params)
        return
    if queued:
        connection.execute(_LEAVE_QUEUE, params)
    connection.execute(_TAKE_SEAT, params)
    connection.execute(_COUNT_SEAT, params)


def _placement(connection: Connection, transfer_id: str, routing: Routing, clock: ShiftClock, change: QueueChange,
               seated: str | None, entry: _Entry | None) -> Placement:
    """Where the transfer stands: seated with rep `seated`, or (None) waiting in its team's line at `entry`."""
    on_shift_seats = seats_on_shift(connection, routing, clock)
    others = {"handed_over": [a for a in change.handed_over if a.transfer_id != transfer_id],
              "moved": [t for t in change.moved if t != transfer_id]}
    if seated is not None:
        return Placement(rep_id=seated, seats_on_shift=on_shift_seats, **others)
    ahead = connection.execute(_AHEAD, {"team": entry.team, "priority": entry.priority, "arrival": entry.arrival})
    return Placement(position=ahead.scalar_one() + 1, seats_on_shift=on_shift_seats, **others)
