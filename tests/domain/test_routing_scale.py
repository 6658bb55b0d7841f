"""The shortcuts routing takes for large pools give exactly the answers of the plain rules."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from domain.hours import is_working
from domain.reps import WEEKDAYS, RepProfile, RepState
from domain.requests import Routing
from domain.routing import ShiftClock, best, best_free, can_take_now, rank

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham"]
SKILLS = ["api", "sso", "pricing", "billing"]


def random_hours(rnd: random.Random) -> dict:
    hours = {}
    for day in rnd.sample(WEEKDAYS, rnd.randint(0, 7)):
        starts = sorted(rnd.sample(range(0, 24 * 60, 15), 2))
        end = "24:00" if starts[1] == 0 or rnd.random() < 0.2 else f"{starts[1] // 60:02}:{starts[1] % 60:02}"
        hours[day] = [(f"{starts[0] // 60:02}:{starts[0] % 60:02}", end)]
    return hours


def random_state(rnd: random.Random, n: int) -> RepState:
    capacity = rnd.choice([1, 2, 3])
    return RepState(
        profile=RepProfile(id=f"rep{n:03}", name="R", team=rnd.choice(["a", "b"]),
                           skills=rnd.sample(SKILLS, rnd.randint(0, 3)),
                           languages=rnd.choice([["en"], ["de", "en"]]), capacity=capacity,
                           timezone=rnd.choice(ZONES), working_hours=random_hours(rnd)),
        presence=rnd.choice(["available", "available", "busy", "offline"]), active=rnd.randint(0, capacity),
        last_assigned_at=rnd.choice([None, datetime(2026, 3, 2, 9, rnd.randint(0, 2), tzinfo=UTC)]))


def test_shift_clock_agrees_with_is_working_at_edges_and_across_dst() -> None:
    rnd = random.Random(3)
    # Minute edges (and a second either side), and the nights Europe and the US change their clocks.
    instants = [datetime(2026, 3, 29, 0, 0, tzinfo=UTC) + timedelta(minutes=15 * k) for k in range(24 * 4 * 2)]
    instants += [datetime(2026, 11, 1, 5, 0, tzinfo=UTC) + timedelta(minutes=15 * k, seconds=s)
                 for k in range(24 * 4) for s in (-1, 0, 1)]
    for _ in range(60):
        hours, zone = random_hours(rnd), rnd.choice(ZONES)
        for at in instants:
            assert ShiftClock(at).working_hours(hours, zone) == is_working(hours, zone, at), (hours, zone, at)


def test_shift_clock_refuses_a_naive_instant_like_is_working() -> None:
    with pytest.raises(ValueError):
        ShiftClock(datetime(2026, 3, 2, 10, 0))


@pytest.mark.parametrize("seed", range(20))
def test_best_is_ranks_first_and_best_free_reads_best_first(seed: int) -> None:
    rnd = random.Random(seed)
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC) + timedelta(hours=rnd.randint(0, 30))
    states = [random_state(rnd, n) for n in range(rnd.randint(0, 60))]
    routing = Routing(team=rnd.choice([None, "a"]), language=rnd.choice([None, "de"]),
                      skills=rnd.sample(SKILLS, rnd.randint(0, 3)),
                      preferred_rep_id=rnd.choice([None, *[s.profile.id for s in states[:5]]]))
    exclude = [s.profile.id for s in rnd.sample(states, min(len(states), rnd.randint(0, 3)))]
    clock = ShiftClock(now)

    ranked = rank(states, routing, now, exclude)
    assert best(states, routing, clock, exclude) is (ranked[0] if ranked else None)

    # What the store feeds best_free: the preferred rep first, then everyone in (load, idle, id) order.
    def load_order(state: RepState) -> tuple:
        last = state.last_assigned_at
        return (state.active / state.profile.capacity, last is not None, last or now, state.profile.id)

    ordered = sorted(states, key=load_order)
    preferred = [s for s in states if s.profile.id == routing.preferred_rep_id]
    batches = [preferred] + [ordered[i:i + 4] for i in range(0, len(ordered), 4)]
    free_first = [s for s in ranked if can_take_now(s, now)]
    assert best_free(iter(batches), routing, clock, exclude) is (free_first[0] if free_first else None)


def test_best_free_stops_reading_once_nobody_later_can_win() -> None:
    reps = [RepState(profile=RepProfile(id=f"r{n}", name="R", skills=["api"], working_hours={
        d: [("00:00", "24:00")] for d in WEEKDAYS}), presence="available") for n in range(3)]
    read = []

    def batches():
        for rep in reps:
            read.append(rep.profile.id)
            yield [rep]

    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert best_free(batches(), Routing(skills=["api"]), ShiftClock(now)).profile.id == "r0"
    assert read == ["r0"]
