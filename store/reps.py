"""The rep directory: profiles, presence, and the live load routing reads.

Parsed profiles are cached in the process by rep id and `profile_rev`, which every profile write
renews: a decision among thousands of reps reads a few small columns, not every profile's JSON.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, reduce
from operator import add

from sqlalchemy import Connection, Row, Select, bindparam, case, func, update
from sqlmodel import Session, select

from domain.reps import Presence, RepPatch, RepProfile, RepState
from domain.requests import Routing
from domain.routing import ShiftClock, can_take_now
from store.db import Database
from store.errors import Conflict, NotFound
from store.portable import insert_ignoring_conflicts
from store.tables import BEST_FIRST, Position, RepRow, profile_columns, skill_token


class RepStore:
    # A team found to have reps is taken on trust this long: a start asks on every transfer, and a team emptied by
    # another process is refused at most this late (one emptied through this process, at once).
    TEAM_TRUSTED_SECONDS = 10.0

    def __init__(self, db: Database, clock: Callable[[], float] = time.monotonic):
        self.db = db
        self._clock = clock
        self._teams_found: dict[str, float] = {}  # team -> until when it is trusted to have reps

    def team_seen(self, team: str) -> bool:
        """Whether `team` was found to have reps lately (no database read): a transfer's start asks this first."""
        return self._teams_found.get(team, 0.0) > self._clock()

    def has_team(self, team: str) -> bool:
        """Whether any rep is in `team`."""
        with self.db.read() as session:
            found = session.exec(select(RepRow.id).where(RepRow.team == team).limit(1)).first() is not None
        if found:
            self._teams_found[team] = self._clock() + self.TEAM_TRUSTED_SECONDS
        return found

    def create(self, profile: RepProfile, presence: Presence = "offline") -> RepState:
        row = {"id": profile.id, **profile_columns(profile.model_dump(mode="json")), "presence": presence, "active": 0}
        with self.db.session() as session:
            _ensure_slack_user_free(session, profile)
            # Insert-or-nothing rather than look-then-insert: two racing creates get one Conflict, not a 500.
            if not insert_ignoring_conflicts(session, RepRow.__table__, [row], ["id"]):
                raise Conflict(f"rep {profile.id!r} already exists")
        return self.get(profile.id)

    def upsert(self, profile: RepProfile, presence: Presence) -> None:
        self._teams_found.clear()  # the rep may have left its team
        with self.db.locked() as session:
            row = session.get(RepRow, profile.id, with_for_update=True) or RepRow(id=profile.id, active=0)
            for column, value in profile_columns(profile.model_dump(mode="json")).items():
                setattr(row, column, value)
            row.presence = presence
            session.add(row)

    def update(self, rep_id: str, patch: RepPatch) -> RepState:
        """Apply a PATCH; the merged profile is validated whole, and an invalid one changes nothing."""
        self._teams_found.clear()  # the rep may leave its team
        with self.db.locked() as session:
            row = _row_for_update(session, rep_id)
            merged = {**row.profile, **patch.model_dump(mode="json", exclude_unset=True)}
            profile = RepProfile.model_validate(merged)
            _ensure_slack_user_free(session, profile)
            for column, value in profile_columns(profile.model_dump(mode="json")).items():
                setattr(row, column, value)
            session.add(row)
        return self.get(rep_id)

    def set_presence(self, rep_id: str, presence: Presence, now: datetime) -> RepState:
        with self.db.session() as session:
            # A single UPDATE (no read first) cannot hit SQLite's stale-snapshot error beside a dispatch.
            changed = session.exec(update(RepRow).where(RepRow.id == rep_id)
                                   .values(presence=presence, presence_changed_at=now)).rowcount
        if not changed:
            raise NotFound(f"no rep {rep_id!r}")
        return self.get(rep_id)

    def get(self, rep_id: str) -> RepState:
        with self.db.read() as session:
            state = rep_state(session.connection(), rep_id)
        if state is None:
            raise NotFound(f"no rep {rep_id!r}")
        return state

    def exists(self, rep_id: str) -> bool:
        with self.db.read() as session:
            return session.get(RepRow, rep_id) is not None

    def list(self, team: str | None = None) -> list[RepState]:
        with self.db.read() as session:
            return states_of_team(session.connection(), team)

    def anyone_can_take_now(self, now: datetime) -> bool:
        return any(can_take_now(state, now) for state in self.list())

    def free_colleagues(self, rep_id: str, now: datetime) -> list[RepState]:
        """The rep's teammates who can take a transfer now (`can_take_now`): whom the rep can defer an offer to."""
        team = self.get(rep_id).profile.team
        return [state for state in self.list(team) if state.profile.id != rep_id and can_take_now(state, now)]

    def by_slack_user(self, slack_user_id: str) -> RepState | None:
        """The rep with this Slack member id, if any."""
        with self.db.read() as session:
            rep_id = session.exec(select(RepRow.id).where(_slack_user == slack_user_id)).first()
        return None if rep_id is None else self.get(rep_id)


# The Slack member id in the profile's JSON, read in SQL (a click in Slack is traced to its rep by it).
_slack_user = RepRow.__table__.c.profile["slack_user_id"].as_string()


def _ensure_slack_user_free(session: Session, profile: RepProfile) -> None:
    """A Slack member id names one rep: a click in Slack must lead to exactly one."""
    if profile.slack_user_id is None:
        return
    holder = session.exec(select(RepRow.id).where(_slack_user == profile.slack_user_id,
                                                  RepRow.id != profile.id)).first()
    if holder is not None:
        raise Conflict(f"Slack user {profile.slack_user_id} is linked to rep {holder!r} already")


def _row_for_update(session: Session, rep_id: str) -> RepRow:
    # FOR UPDATE makes a read-modify-write of the profile safe on PostgreSQL; SQLite's locked() already is.
    row = session.get(RepRow, rep_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no rep {rep_id!r}")
    return row


# What a RepState is built from; the profile comes from the cache by (id, profile_rev).
_STATE_COLUMNS = (RepRow.id, RepRow.profile_rev, RepRow.presence, RepRow.active, RepRow.last_assigned_at)


@dataclass(slots=True)
class _Known:
    rev: str
    profile: RepProfile
    state: RepState | None = None  # the last state built on this profile, reused while nothing changed


# rep id -> the profile parsed at a revision. Revisions are random, so rows of another database (tests
# open many) can never be mistaken for these; a stale entry is simply replaced on the next read.
_PROFILES: dict[str, _Known] = {}

# The hot statements are built once, with bound parameters: SQLAlchemy then finds each one's compiled
# form by a cache key memoized on the statement, instead of building and hashing a new statement per call.
_ONE_REP = select(*_STATE_COLUMNS).where(RepRow.id == bindparam("rep_id"))
_PROFILES_OF = select(RepRow.id, RepRow.profile_rev, RepRow.profile).where(
    RepRow.id.in_(bindparam("rep_ids", expanding=True)))
_TEAMS_WITH_ROOM = (select(RepRow.team, RepRow.shift, RepRow.languages, func.min(RepRow.id))
                    .where(RepRow.presence == "available", RepRow.active < RepRow.capacity)
                    .group_by(RepRow.team, RepRow.shift, RepRow.languages))
_SHIFT_PROFILE = select(RepRow.profile).where(RepRow.id == bindparam("rep_id"))


def rep_state(connection: Connection, rep_id: str) -> RepState | None:
    states = _states(connection, connection.execute(_ONE_REP, {"rep_id": rep_id}).all())
    return states[0] if states else None


def states_of_team(connection: Connection, team: str | None) -> list[RepState]:
    query = select(*_STATE_COLUMNS).order_by(RepRow.id)
    if team is not None:
        query = query.where(RepRow.team == team)
    return _states(connection, connection.execute(query).all())


class FreeReps:
    """Reps who can take a transfer now (can_take_now), in the order `best_free` needs: load ratio, then
    longest idle, then id; the seat and presence test in SQL, hours in Python, read in growing batches.

    One per decision, shared by the queue entries it looks at: most entries are passed over (nobody fits
    them), so what was read for a team serves the next entry of that team too. `forget` drops it all once
    a seat is given, since that rep's load and idle time, so their place in the order, changed.
    """

    def __init__(self, connection: Connection, clock: ShiftClock):
        self.connection, self.clock = connection, clock
        self._teams: dict[str | None, _TeamRead] = {}
        self._states: dict[str, RepState | None] = {}
        self._off: list[str] | None = None  # shifts known to be off now

    def state_of(self, rep_id: str) -> RepState | None:
        if rep_id not in self._states:
            self._states[rep_id] = rep_state(self.connection, rep_id)
        return self._states[rep_id]

    def best_first(self, team: str | None, first: RepState | None = None) -> Iterator[list[RepState]]:
        """The team's reps who can take one now (every team's for None), `first` before them all."""
        if first is not None:
            yield [first]
        read = self._teams.setdefault(team, _TeamRead())
        taken = 0
        while True:
            while taken < len(read.batches):
                taken += 1
                yield read.batches[taken - 1]
            if read.exhausted:
                return
            read.read_next(self.connection, team, self.clock)

    def few_free(self, team: str | None) -> bool:
        """Whether the first batch read best first (read now if need be) holds all the team's reps with room."""
        read = self._teams.setdefault(team, _TeamRead())
        if not read.batches:
            read.read_next(self.connection, team, self.clock)
        return read.exhausted

    def matching(self, routing: Routing, exclude: Collection[str]) -> Iterator[list[RepState]]:
        """Reps who can take one now, eligible for `routing` and not excluded, in rank's order for it: the
        most wanted skills first, then best first. Language, skills and exclusions are matched in SQL and
        so are the shifts known to be off now, so the best rep comes in the first rows, however rare the
        language or skills; hours of shifts not known yet are checked here."""
        skills = sorted(set(routing.skills))
        params = {"exclude": sorted(exclude), "off_shift": self._off_shifts(), "offset": 0, "size": 8,
                  **{f"skill{n}": skill_token(skill) for n, skill in enumerate(skills)}}
        if routing.team is not None:
            params["team"] = routing.team
        if routing.language:
            params["language"] = f"%,{routing.language},%"
        statement = _matching_query(routing.team is not None, bool(routing.language), len(skills))
        while True:
            rows = self.connection.execute(statement, params).all()
            yield _working_states(self.connection, rows, self.clock)
            if len(rows) < params["size"]:
                return
            params["offset"] += params["size"]
            params["size"] = min(params["size"] * 4, 2048)

    def _off_shifts(self) -> list[str]:
        if self._off is None:
            self._off = sorted(shift for shift, hours in _SHIFTS.items() if not self.clock.working_hours(*hours))
        return self._off

    def nobody_free(self, team: str | None) -> bool:
        """Whether every rep with room in the team was read and none of them is on shift."""
        read = self._teams.get(team)
        return read is not None and read.exhausted and read.seen == 0

    def forget(self) -> None:
        self._teams.clear()
        self._states.clear()


@dataclass(slots=True)
class _TeamRead:
    batches: list[list[RepState]] = field(default_factory=list)
    exhausted: bool = False
    seen: int = 0  # reps read so far who can take one now
    offset: int = 0
    size: int = 32

    def read_next(self, connection: Connection, team: str | None, clock: ShiftClock) -> None:
        params = {"offset": self.offset, "size": self.size}
        if team is not None:
            params["team"] = team
        rows = connection.execute(_FREE_REPS if team is None else _FREE_REPS_OF_TEAM, params).all()
        free = _working_states(connection, rows, clock)
        self.batches.append(free)
        self.seen += len(free)
        self.exhausted = len(rows) < self.size
        self.offset, self.size = self.offset + self.size, min(self.size * 4, 2048)


def _working_states(connection: Connection, rows: Sequence[Row], clock: ShiftClock) -> list[RepState]:
    """The states of the rows (_STATE_COLUMNS, then the shift) of reps on shift now.

    Hours are checked once per shift (reps with the same zone and hours share one), not once per rep, and
    only reps on shift are built into states: a long read passes most reps over.
    """
    working: dict[str, bool] = {}
    on_shift = []
    for row in rows:
        shift = row[-1]
        if shift not in working:
            working[shift] = clock.working_hours(*_shift(connection, shift, row[0]))
        if working[shift]:
            on_shift.append(row)
    states = _states(connection, on_shift)
    for state in states:
        clock.record_working(state.profile)
    return states


# Reps with a free seat, best first, a batch at a time, with their shift: read along ix_reps_best_free.
_FREE_REPS = (select(*_STATE_COLUMNS, RepRow.shift)
              .where(RepRow.presence == "available", RepRow.active < RepRow.capacity)
              .order_by(*BEST_FIRST).offset(bindparam("offset")).limit(bindparam("size")))
_FREE_REPS_OF_TEAM = _FREE_REPS.where(RepRow.team == bindparam("team"))


@cache
def _matching_query(team: bool, language: bool, skills: int) -> Select:
    """FreeReps.matching's read: of the team (if `team`), speaking the language (if `language`), ordered by
    how many of `skills` wanted skills they have, then best first; on ix_reps_best_free's entries alone."""
    query = _FREE_REPS.where(RepRow.id.not_in(bindparam("exclude", expanding=True)),
                             RepRow.shift.not_in(bindparam("off_shift", expanding=True)))
    if team:
        query = query.where(RepRow.team == bindparam("team"))
    if language:
        query = query.where(RepRow.languages.like(bindparam("language")))
    if skills:
        matched = reduce(add, (case((Position(RepRow.skills, bindparam(f"skill{n}")) > 0, 1), else_=0)
                               for n in range(skills)))
        query = query.order_by(None).order_by(matched.desc(), *BEST_FIRST)
    return query


def teams_with_free_seats(connection: Connection, clock: ShiftClock) -> dict[str, set[str]]:
    """Teams with a rep who can take a transfer now (available, a free seat, on shift), with the languages
    such reps speak.

    Grouped in SQL by team, shift and languages, so hours are checked once per shift, not per rep.
    """
    teams: dict[str, set[str]] = {}
    for team, shift, languages, some_rep in connection.execute(_TEAMS_WITH_ROOM):
        if clock.working_hours(*_shift(connection, shift, some_rep)):
            teams.setdefault(team, set()).update(languages.strip(",").split(","))
    return teams


_SHIFTS: dict[str, tuple[dict, str]] = {}  # RepRow.shift -> (working hours, time zone), read once


def _shift(connection: Connection, shift: str, some_rep: str) -> tuple[dict, str]:
    """The working hours and time zone behind a shift key, read from one rep who has it."""
    if shift not in _SHIFTS:
        profile = connection.execute(_SHIFT_PROFILE, {"rep_id": some_rep}).scalar_one()
        _SHIFTS[shift] = (profile.get("working_hours", {}), profile.get("timezone", "UTC"))
    return _SHIFTS[shift]


def seats_on_shift(connection: Connection, routing: Routing, clock: ShiftClock) -> int:
    """The seats of the reps on shift (any presence but offline) who are eligible for `routing`.

    Summed in SQL per shift (reps with the same zone and hours), so one row per shift reaches Python.
    """
    params = {}
    if routing.team:
        params["team"] = routing.team
    if routing.language:  # two lowercase letters (validated), so nothing in it needs escaping for LIKE
        params["language"] = f"%,{routing.language},%"
    return sum(seats for shift, seats, some_rep in connection.execute(_seats_query(*params), params)
               if clock.working_hours(*_shift(connection, shift, some_rep)))


@cache
def _seats_query(*filters: str) -> Select:
    query = (select(RepRow.shift, func.sum(RepRow.capacity), func.min(RepRow.id))
             .where(RepRow.presence != "offline").group_by(RepRow.shift))
    if "team" in filters:
        query = query.where(RepRow.team == bindparam("team"))
    if "language" in filters:
        query = query.where(RepRow.languages.like(bindparam("language")))
    return query


def _profiles(connection: Connection, rows: Sequence[Row]) -> dict[str, RepProfile]:
    """Each row's profile (rows start with id, profile_rev): from the cache, the missing ones read and parsed."""
    found: dict[str, RepProfile] = {}
    missing = []
    for row in rows:
        known = _PROFILES.get(row[0])
        if known is not None and known.rev == row[1] and row[1] is not None:
            found[row[0]] = known.profile
        else:
            missing.append(row[0])
    for start in range(0, len(missing), 500):
        # The revision read with the JSON (a newer write may have landed since `rows`) keys the cache.
        for rep_id, rev, raw in connection.execute(_PROFILES_OF, {"rep_ids": missing[start:start + 500]}):
            profile = found[rep_id] = RepProfile.model_validate(raw)
            if rev is not None:
                _PROFILES[rep_id] = _Known(rev, profile)
    return found


def _states(connection: Connection, rows: Sequence[Row]) -> list[RepState]:
    profiles = _profiles(connection, rows)
    states = []
    for rep_id, _, presence, active, last_assigned_at, *_ in rows:
        profile = profiles.get(rep_id)
        if profile is None:  # deleted between the two reads
            continue
        known = _PROFILES.get(rep_id)
        state = known.state if known is not None and known.profile is profile else None
        if (state is None or state.presence != presence or state.active != active
                or state.last_assigned_at != last_assigned_at):
            state = RepState.model_construct(profile=profile, presence=presence, active=active,
                                             last_assigned_at=last_assigned_at)
            if known is not None and known.profile is profile:
                known.state = state
        states.append(state)
    return states
