"""The SQL-filtered, best-first capacity decisions against the plain rules they replace.

`reference_dispatch` is the dispatch as first written: every rep who can take a transfer now, every
queue entry in order, `rank` for each. A random directory and a random run of places, releases,
presence changes and profile patches must give the same seats, places, moves and on-shift seats.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from domain.placement import Assignment
from domain.reps import WEEKDAYS, RepPatch, RepProfile, RepState
from domain.requests import Routing
from domain.routing import can_take_now, eligible, on_shift, rank
from store.capacity import CapacityStore
from store.db import Database
from store.reps import RepStore
from store.tables import RepRow, SeatRow
from tests.store.support import ALL_WEEK, NOW, profile

TEAMS = ["enterprise", "smb", "partners"]
SKILLS = ["pricing", "security", "api", "billing", "sso"]
HOURS = [ALL_WEEK, {d: [("09:00", "17:00")] for d in WEEKDAYS[:5]}, {d: [("18:00", "23:00")] for d in WEEKDAYS},
         {"mon": [("00:00", "09:30"), ("10:00", "10:01")]}]
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]


@dataclass
class Entry:
    transfer_id: str
    team: str
    priority: int
    routing: dict


def reference_dispatch(states: list[RepState], queue: list[Entry], now: datetime) -> list[Assignment]:
    free = {s.profile.id: s for s in states if can_take_now(s, now)}
    handed = []
    for entry in queue:
        if not free:
            break
        routing = Routing.model_validate({k: v for k, v in entry.routing.items() if k != "exclude"})
        ranked = rank(list(free.values()), routing, now, exclude=entry.routing.get("exclude", ()))
        if not ranked:
            continue
        rep = ranked[0]
        handed.append(Assignment(transfer_id=entry.transfer_id, rep_id=rep.profile.id))
        rep = rep.model_copy(update={"active": rep.active + 1})
        if rep.free_seats > 0:
            free[rep.profile.id] = rep
        else:
            del free[rep.profile.id]
    return handed


def places(queue: list[Entry]) -> dict[str, int]:
    per_team: dict[str, int] = {}
    result = {}
    for entry in queue:
        per_team[entry.team] = per_team.get(entry.team, 0) + 1
        result[entry.transfer_id] = per_team[entry.team]
    return result


def waiting(capacity: CapacityStore) -> list[Entry]:
    return [Entry(q.transfer_id, q.team, q.priority, q.routing) for q in capacity.waiting()]


def seats_on_shift(reps: RepStore, routing: Routing, now: datetime) -> int:
    return sum(s.profile.capacity for s in reps.list(routing.team) if on_shift(s, now) and eligible(s.profile, routing))


def random_profile(rnd: random.Random, n: int) -> RepProfile:
    return RepProfile(id=f"r{n:02}", name=f"Rep {n}", team=rnd.choice(TEAMS),
                      skills=rnd.sample(SKILLS, rnd.randint(0, 3)),
                      languages=rnd.choice([["en"], ["en", "de"], ["de"], ["fr", "en"]]),
                      capacity=rnd.choice([1, 1, 2, 3]), timezone=rnd.choice(ZONES), working_hours=rnd.choice(HOURS))


def random_routing(rnd: random.Random) -> tuple[Routing, list[str]]:
    routing = Routing(team=rnd.choice([*TEAMS, None]), skills=rnd.sample(SKILLS, rnd.randint(0, 2)),
                      language=rnd.choice([None, None, "en", "de"]),
                      preferred_rep_id=f"r{rnd.randrange(30):02}" if rnd.random() < 0.2 else None,
                      priority=rnd.choice([0, 0, 0, 2, 5]))
    return routing, [f"r{rnd.randrange(30):02}" for _ in range(rnd.choice([0, 0, 1, 2]))]


def loads_match_seats(db: Database) -> None:
    """RepRow.active, which the SQL filters read, always equals the seat rows it stands for."""
    with db.read() as session:
        counted = dict(session.exec(select(SeatRow.rep_id, func.count()).group_by(SeatRow.rep_id)).all())
        stored = {rep_id: active for rep_id, active in session.exec(select(RepRow.id, RepRow.active)).all()}
    assert stored == {rep_id: counted.get(rep_id, 0) for rep_id in stored}


def test_a_random_run_decides_exactly_as_the_plain_rules(db: Database, reps: RepStore,
                                                         capacity: CapacityStore) -> None:
    rnd = random.Random(7)
    for n in range(30):
        reps.create(random_profile(rnd, n), presence=rnd.choice(["available", "available", "busy", "away", "offline"]))
    live: list[str] = []
    for step in range(120):
        now = NOW + timedelta(minutes=7 * step)  # crosses shift edges in several zones
        before = waiting(capacity)
        states = reps.list()
        action = rnd.random()
        if action < 0.55 or not live:
            transfer_id = f"t{step:03}"
            routing, exclude = random_routing(rnd)
            entry = Entry(transfer_id, routing.team or "", routing.priority,
                          {**routing.model_dump(mode="json"), "exclude": sorted(exclude)})
            queue = sorted([*before, entry], key=lambda e: -e.priority)  # stable: arrival order within a priority
            expected = reference_dispatch(states, queue, now)
            placed = capacity.place(transfer_id, routing, now, exclude)
            mine = [a for a in expected if a.transfer_id == transfer_id]
            assert placed.rep_id == (mine[0].rep_id if mine else None)
            assert placed.handed_over == [a for a in expected if a.transfer_id != transfer_id]
            assert placed.seats_on_shift == seats_on_shift(reps, routing, now)
            if placed.rep_id is None:
                left = [e for e in queue if e.transfer_id not in {a.transfer_id for a in expected}]
                assert placed.position == places(left)[transfer_id]
            change = placed
            live.append(transfer_id)
        elif action < 0.85:
            transfer_id = live.pop(rnd.randrange(len(live)))
            holder = capacity.seat_holder(transfer_id)
            freed = [s.model_copy(update={"active": s.active - 1}) if s.profile.id == holder else s for s in states]
            expected = reference_dispatch(freed, [e for e in before if e.transfer_id != transfer_id], now)
            change = capacity.release(transfer_id, now)
            assert change.handed_over == expected
        else:
            rep_id = f"r{rnd.randrange(30):02}"
            if rnd.random() < 0.5:
                reps.set_presence(rep_id, rnd.choice(["available", "busy", "offline"]), now)
            else:
                reps.update(rep_id, RepPatch(capacity=rnd.choice([1, 2, 3]), skills=rnd.sample(SKILLS, 2),
                                             languages=rnd.choice([["en"], ["de", "en"]])))
            expected = reference_dispatch(reps.list(), before, now)
            change = capacity.dispatch(now)
            assert change.handed_over == expected
        after = places(waiting(capacity))
        was = places(before)
        assert change.moved == [t for t in after if t in was and was[t] != after[t]]
        loads_match_seats(db)


def test_a_patched_profile_is_used_at_once_not_the_cached_one(reps: RepStore, capacity: CapacityStore) -> None:
    reps.create(profile("ana", languages=["en"], skills=["api"]), presence="available")
    reps.create(profile("bo", languages=["en"]), presence="available")
    assert capacity.place("t1", Routing(skills=["api"]), NOW).rep_id == "ana"  # profiles now cached
    capacity.release("t1", NOW)

    reps.update("ana", RepPatch(languages=["de"]))
    assert capacity.place("t2", Routing(language="en", skills=["api"]), NOW).rep_id == "bo"
    assert capacity.place("t3", Routing(language="de"), NOW).rep_id == "ana"
    assert capacity.place("t4", Routing(language="de"), NOW).position == 1  # ana's one seat is taken

    reps.update("ana", RepPatch(capacity=2))  # a second seat: dispatch hands it to the waiting one
    assert capacity.dispatch(NOW).handed_over == [Assignment(transfer_id="t4", rep_id="ana")]
    assert reps.get("ana").profile.capacity == 2 and reps.get("ana").active == 2


def test_presence_and_hours_are_read_fresh_for_every_decision(reps: RepStore, capacity: CapacityStore) -> None:
    reps.create(profile("ana", skills=["api"]), presence="available")
    reps.create(profile("bo"), presence="available")
    assert capacity.place("t1", Routing(skills=["api"]), NOW).rep_id == "ana"
    capacity.release("t1", NOW)

    reps.set_presence("ana", "busy", NOW)
    assert capacity.place("t2", Routing(skills=["api"]), NOW).rep_id == "bo"
    reps.set_presence("ana", "available", NOW)
    reps.update("ana", RepPatch(working_hours={"sun": [("00:00", "01:00")]}))  # NOW is a Monday
    placed = capacity.place("t3", Routing(skills=["api"]), NOW)
    assert (placed.position, placed.seats_on_shift) == (1, 1)  # ana is off shift, bo's one seat is taken


def test_a_profile_changed_by_another_process_is_seen(db_url: str, reps: RepStore, capacity: CapacityStore) -> None:
    reps.create(profile("ana", team="enterprise"), presence="available")
    assert reps.get("ana").profile.team == "enterprise"  # cached here
    other = Database(db_url)  # another process: its own engine, the same rows
    try:
        RepStore(other).update("ana", RepPatch(team="smb", title="AE"))
        with other.session() as session:  # even a plain ORM write of the profile renews the revision
            row = session.get(RepRow, "ana")
            row.profile = {**row.profile, "title": "Lead AE", "capacity": 3}
            session.add(row)
    finally:
        other.dispose()
    state = reps.get("ana")
    assert (state.profile.team, state.profile.title, state.profile.capacity) == ("smb", "Lead AE", 3)
    assert [s.profile.id for s in reps.list("smb")] == ["ana"]
    assert capacity.place("t1", Routing(team="enterprise"), NOW).position == 1
    assert capacity.place("t2", Routing(team="smb"), NOW).rep_id == "ana"


def test_the_preferred_rep_wins_wherever_the_load_order_puts_them(reps: RepStore, capacity: CapacityStore) -> None:
    # Many idle reps with every skill ahead of a loaded preferred rep: reading best first must not stop early.
    for n in range(80):
        reps.create(profile(f"a{n:02}", skills=["api"]), presence="available")
    reps.create(profile("zed", capacity=3, skills=[]), presence="available")
    assert capacity.reserve("held", "zed", NOW)

    assert capacity.place("t1", Routing(skills=["api"], preferred_rep_id="zed"), NOW).rep_id == "zed"
    assert capacity.place("t2", Routing(skills=["api"], preferred_rep_id="zed"), NOW, exclude=["zed"]).rep_id == "a00"


def test_moving_to_another_team_on_a_new_placement_changes_its_line(reps: RepStore, capacity: CapacityStore) -> None:
    for transfer_id, team in [("s1", "smb"), ("e1", "enterprise"), ("s2", "smb")]:
        capacity.place(transfer_id, Routing(team=team), NOW)

    moved = capacity.place("s1", Routing(team="enterprise"), NOW)  # joins enterprise's line at its arrival

    assert (moved.position, moved.moved) == (1, ["e1", "s2"])
    assert [capacity.status(t, Routing(), NOW).position for t in ("e1", "s2")] == [2, 1]
    reps.create(profile("ana", team="enterprise"), presence="available")
    assert capacity.dispatch(NOW).handed_over == [Assignment(transfer_id="s1", rep_id="ana")]


@pytest.mark.parametrize("team", ["enterprise", None], ids=["one team", "any team"])
def test_ties_go_by_id_in_code_point_order_as_in_python(reps: RepStore, capacity: CapacityStore,
                                                        team: str | None) -> None:
    # Equal load, never assigned: the id decides, in Python's order (digits, capitals, "_", small letters),
    # whatever the database's own collation would say.
    ids = ["b", "B", "_a", "A", "a", "9z", "a-b", "a.b"]
    for rep_id in ids:
        reps.create(profile(rep_id, team="enterprise"), presence="available")

    seated = [capacity.place(f"t{n}", Routing(team=team), NOW).rep_id for n in range(len(ids))]

    assert seated == sorted(ids)
