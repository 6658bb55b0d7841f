"""Seats and the queue: who gets a rep, in what order, and what changes when seats free up."""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.placement import Assignment
from domain.requests import Routing
from store.capacity import CapacityStore
from store.db import Database
from store.reps import RepStore
from tests.store.support import NOW, profile, seats_per_rep


def later(seconds: int) -> datetime:
    return NOW + timedelta(seconds=seconds)


def queue_order(capacity: CapacityStore) -> list[str]:
    return [entry.transfer_id for entry in capacity.waiting()]


def test_place_seats_the_transfer_with_the_best_free_rep(reps: RepStore, capacity: CapacityStore) -> None:
    reps.create(profile("ana", team="enterprise"), presence="available")
    reps.create(profile("bo", team="enterprise", skills=["pricing"]), presence="available")
    reps.create(profile("cy", team="enterprise", skills=["pricing"]), presence="busy")
    reps.create(profile("di", team="smb", skills=["pricing"]), presence="available")
    wanted = Routing(team="enterprise", skills=["pricing"])

    first = capacity.place("t1", wanted, NOW)
    second = capacity.place("t2", wanted, NOW)

    assert (first.rep_id, first.position, first.seats_on_shift) == ("bo", None, 3)
    assert second.rep_id == "ana"  # bo's one seat is taken, cy is busy, di is on another team
    assert seats_per_rep(capacity.db) == {"ana": 1, "bo": 1}
    assert capacity.seat_holder("t1") == "bo"


def test_queue_serves_higher_priority_first_then_arrival(reps: RepStore, capacity: CapacityStore) -> None:
    reps.create(profile("ana"), presence="available")
    capacity.place("seated", Routing(), NOW)
    # "zed" and "amy" arrive at the same instant: arrival order, not the id, decides between them.
    for transfer_id, priority, at in [("low", 0, 1), ("zed", 0, 2), ("amy", 0, 2), ("urgent", 5, 3)]:
        capacity.place(transfer_id, Routing(priority=priority), later(at))

    assert queue_order(capacity) == ["urgent", "low", "zed", "amy"]
    assert [capacity.status(t, Routing(), NOW).position for t in queue_order(capacity)] == [1, 2, 3, 4]


def test_positions_move_up_and_release_hands_the_seat_to_the_head(reps: RepStore, capacity: CapacityStore) -> None:
    reps.create(profile("ana"), presence="available")
    capacity.place("seated", Routing(), NOW)
    for at, transfer_id in enumerate(["q1", "q2", "q3"], start=1):
        assert capacity.place(transfer_id, Routing(), later(at)).position == at

    assert capacity.release("seated", later(10)).handed_over == [Assignment(transfer_id="q1", rep_id="ana")]
    assert capacity.status("q1", Routing(), later(10)).rep_id == "ana"
    assert [capacity.status(t, Routing(), later(10)).position for t in ("q2", "q3")] == [1, 2]
    assert capacity.release("q2", later(11)).handed_over == []  # leaving the queue frees no seat
    assert capacity.status("q3", Routing(), later(11)).position == 1
    assert capacity.status("q2", Routing(), later(11)) is None


def test_positions_count_only_the_transfers_of_the_same_team(reps: RepStore, capacity: CapacityStore) -> None:
    capacity.place("smb-1", Routing(team="smb"), NOW)
    capacity.place("ent-1", Routing(team="enterprise"), later(1))
    capacity.place("smb-2", Routing(team="smb"), later(2))

    assert [capacity.status(t, Routing(), NOW).position for t in ("smb-1", "ent-1", "smb-2")] == [1, 1, 2]


def test_reserve_takes_a_named_reps_seat_only_when_available_with_room(reps: RepStore,
                                                                       capacity: CapacityStore) -> None:
    reps.create(profile("ana"), presence="available")
    reps.create(profile("bo", capacity=2), presence="busy")

    assert capacity.reserve("t1", "ana", NOW)
    assert capacity.reserve("t1", "ana", NOW)  # again: still the same seat
    assert not capacity.reserve("t2", "ana", NOW)  # ana's only seat is taken
    assert not capacity.reserve("t2", "bo", NOW)  # bo has room but is busy
    assert not capacity.reserve("t2", "nobody", NOW)
    assert not capacity.reserve("t1", "bo", NOW)  # t1 already sits with ana
    assert seats_per_rep(capacity.db) == {"ana": 1}


def test_reserving_a_queued_transfer_takes_it_out_of_the_queue(reps: RepStore, capacity: CapacityStore) -> None:
    reps.create(profile("ana", team="enterprise"), presence="available")
    reps.create(profile("bo", team="smb"), presence="available")
    capacity.place("t1", Routing(team="enterprise"), NOW)
    assert capacity.place("t2", Routing(team="enterprise"), NOW).position == 1

    assert capacity.reserve("t2", "bo", NOW)  # deferred to a colleague outside the team

    assert queue_order(capacity) == []
    assert capacity.release("t1", later(1)).handed_over == []  # the freed seat must not seat t2 a second time
    assert seats_per_rep(capacity.db) == {"bo": 1}


def test_dispatch_seats_waiting_transfers_once_a_rep_becomes_available(reps: RepStore,
                                                                       capacity: CapacityStore) -> None:
    reps.create(profile("ana"), presence="offline")
    waiting = capacity.place("t1", Routing(), NOW)
    assert (waiting.position, waiting.seats_on_shift) == (1, 0)
    assert capacity.dispatch(NOW).handed_over == []

    reps.set_presence("ana", "available", later(1))

    assert capacity.dispatch(later(1)).handed_over == [Assignment(transfer_id="t1", rep_id="ana")]
    assert capacity.status("t1", Routing(), later(1)).rep_id == "ana"
    assert capacity.dispatch(later(2)).handed_over == []


def test_excluded_reps_are_never_given_the_transfer(reps: RepStore, capacity: CapacityStore) -> None:
    reps.create(profile("ana"), presence="available")
    reps.create(profile("bo"), presence="available")

    assert capacity.place("t1", Routing(), NOW, exclude=["ana"]).rep_id == "bo"
    assert capacity.place("t2", Routing(), NOW, exclude=["ana"]).position == 1
    assert capacity.place("t3", Routing(), NOW).rep_id == "ana"  # a later arrival may pass an excluded one
    capacity.release("t3", later(1))  # frees ana, whom t2 refuses
    assert seats_per_rep(capacity.db) == {"bo": 1}
    assert capacity.release("t1", later(2)).handed_over == [Assignment(transfer_id="t2", rep_id="bo")]


def test_a_rep_who_makes_themselves_available_is_no_longer_passed_over(reps: RepStore,
                                                                      capacity: CapacityStore) -> None:
    reps.create(profile("ana"), presence="away")  # she let t1's offer lapse
    reps.create(profile("ana_"), presence="away")  # an id whose LIKE pattern also matches "ana"'s
    capacity.place("t1", Routing(), NOW, exclude=["ana", "ana_"])
    reps.set_presence("ana", "available", later(1))
    assert capacity.dispatch(later(1)).handed_over == []  # a dispatch for any other change still passes her over
    reps.set_presence("ana_", "available", later(2))
    assert capacity.dispatch(later(2), available="ana").handed_over == [Assignment(transfer_id="t1", rep_id="ana")]


def test_place_and_release_are_idempotent(db: Database, reps: RepStore, capacity: CapacityStore) -> None:
    reps.create(profile("ana"), presence="available")
    seated = capacity.place("t1", Routing(), NOW)
    queued = capacity.place("t2", Routing(), NOW)

    assert capacity.place("t1", Routing(), later(5)) == seated
    assert capacity.place("t2", Routing(), later(5)) == queued
    assert (seats_per_rep(db), queue_order(capacity)) == ({"ana": 1}, ["t2"])

    assert capacity.release("t1", later(6)).handed_over == [Assignment(transfer_id="t2", rep_id="ana")]
    assert capacity.release("t1", later(7)).handed_over == []
    assert (seats_per_rep(db), queue_order(capacity)) == ({"ana": 1}, [])
    assert capacity.seat_holder("t2") == "ana"


def test_decisions_name_the_waiting_transfers_whose_place_moved(reps: RepStore, capacity: CapacityStore) -> None:
    reps.create(profile("ana"), presence="available")
    capacity.place("seated", Routing(), NOW)
    for n, transfer_id in enumerate(["q1", "q2", "q3"]):
        capacity.place(transfer_id, Routing(), later(n + 1))
    urgent = capacity.place("urgent", Routing(priority=5), later(5))
    assert urgent.position == 1 and urgent.moved == ["q1", "q2", "q3"]  # all pushed back by one
    left = capacity.release("q2", later(6))
    assert left.handed_over == [] and left.moved == ["q3"]  # only those behind the leaver move up
    freed = capacity.release("seated", later(7))
    assert freed.handed_over == [Assignment(transfer_id="urgent", rep_id="ana")]
    assert freed.moved == ["q1", "q3"] and freed.to_wake() == ["urgent", "q1", "q3"]
