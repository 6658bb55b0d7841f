"""Many transfers racing for the last seats: a rep is never given more transfers than their capacity."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from domain.placement import Assignment
from domain.requests import Routing
from store.capacity import CapacityStore
from store.db import Database
from store.reps import RepStore
from tests.store.support import NOW, profile, run_at_once, seats_per_rep

RACERS = 40
CAPACITY = 2


@contextmanager
def most_seats_seen(db: Database) -> Iterator[list[int]]:
    """Counts the rep's seats over and over while the block runs; yields [the highest count seen]."""
    highest = [0]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            highest[0] = max(highest[0], *seats_per_rep(db).values(), 0)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        yield highest
    finally:
        done.set()
        watcher.join()


def test_racing_places_fill_exactly_the_free_seats_and_queue_the_rest_in_fifo_order(
        db: Database, reps: RepStore, capacity: CapacityStore) -> None:
    reps.create(profile("ana", capacity=CAPACITY), presence="available")
    transfer_ids = [f"t{i:02}" for i in range(RACERS)]

    with most_seats_seen(db) as highest:
        placements = dict(zip(transfer_ids, run_at_once(
            [lambda t=t: capacity.place(t, Routing(), NOW) for t in transfer_ids]), strict=True))

    assert highest[0] <= CAPACITY
    assert seats_per_rep(db) == {"ana": CAPACITY}
    seated = [t for t, p in placements.items() if p.rep_id == "ana"]
    by_position = {p.position: t for t, p in placements.items() if p.rep_id is None}
    assert len(seated) == CAPACITY
    assert sorted(by_position) == list(range(1, RACERS - CAPACITY + 1))

    # Everyone leaves in the order they got a seat; each release passes the seat to whoever was
    # told they were next, and the rep never holds more than their capacity.
    in_line = [by_position[position] for position in sorted(by_position)]
    for step, leaving in enumerate(seated + in_line):
        handed = capacity.release(leaving, NOW).handed_over
        assert handed == ([Assignment(transfer_id=in_line[step], rep_id="ana")] if step < len(in_line) else [])
        assert seats_per_rep(db).get("ana", 0) == min(CAPACITY, RACERS - step - 1)


def test_releases_racing_places_hand_seats_to_the_queue_head_without_overbooking(
        db: Database, reps: RepStore, capacity: CapacityStore) -> None:
    reps.create(profile("ana", capacity=CAPACITY), presence="available")
    holders = ["s1", "s2"]
    waiting = [f"q{i:02}" for i in range(10)]
    newcomers = [f"n{i:02}" for i in range(20)]
    for transfer_id in holders + waiting:
        capacity.place(transfer_id, Routing(), NOW)

    with most_seats_seen(db) as highest:
        results = run_at_once([lambda t=t: capacity.release(t, NOW) for t in holders]
                              + [lambda t=t: capacity.place(t, Routing(), NOW) for t in newcomers])

    assert highest[0] <= CAPACITY
    handed = sorted(a.transfer_id for r in results[:len(holders)] for a in r.handed_over)
    assert handed == waiting[:CAPACITY]  # the queue heads, never a newcomer that raced in
    assert seats_per_rep(db) == {"ana": CAPACITY}
    line = [entry.transfer_id for entry in capacity.waiting()]
    assert line[:len(waiting) - CAPACITY] == waiting[CAPACITY:]
    assert sorted(line[len(waiting) - CAPACITY:]) == newcomers
    assert [capacity.status(t, Routing(), NOW).position for t in line] == list(range(1, len(line) + 1))


def test_presence_changes_racing_placements_all_succeed(reps: RepStore, capacity: CapacityStore) -> None:
    # On SQLite a read-then-write presence change used to fail with "database is locked" here.
    reps.create(profile("ana", capacity=RACERS), presence="available")

    run_at_once([lambda: reps.set_presence("ana", "available", NOW) for _ in range(RACERS // 2)]
                + [lambda t=t: capacity.place(f"t{t:02}", Routing(), NOW) for t in range(RACERS // 2)])

    assert reps.get("ana").active == RACERS // 2
