"""What a capacity decision costs the database: how many statements, each compiled once, and the
best-first read of reps served in order by its index rather than sorted."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, text
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.engine.interfaces import CacheStats

from domain.placement import Assignment
from domain.requests import Routing
from store.capacity import CapacityStore
from store.db import Database
from store.reps import _FREE_REPS_OF_TEAM, RepStore
from tests.store.support import NOW, profile


@contextmanager
def statements(db: Database) -> Iterator[list[tuple[str, bool]]]:
    """Every statement the block sends, with whether SQLAlchemy's compiled cache served it; BEGIN and
    COMMIT are left out (SQLAlchemy sends them as plain driver SQL or driver calls)."""
    sent: list[tuple[str, bool]] = []

    def record(_conn, _cursor, statement: str, _params, context: DefaultExecutionContext, _many) -> None:
        if context.compiled is not None:
            sent.append((statement, context.cache_hit == CacheStats.CACHE_HIT))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def lock_statements(db: Database) -> int:
    return 0 if db.is_sqlite else 1  # PostgreSQL takes the advisory lock first


def seat_statements(db: Database) -> int:
    return 2 if db.is_sqlite else 1  # the seat and its count; one statement on PostgreSQL (WITH ... INSERT)


def test_a_placement_while_nobody_waits_takes_a_handful_of_cached_statements(
        db: Database, reps: RepStore, capacity: CapacityStore) -> None:
    for rep_id in ("ana", "bo", "cy"):
        reps.create(profile(rep_id, team="enterprise", skills=["api"]), presence="available")
    capacity.release("warm-up", NOW)  # every statement compiled once
    capacity.place("warm-up", Routing(team="enterprise"), NOW)
    capacity.release("warm-up", NOW)

    with statements(db) as placing:
        placed = capacity.place("t1", Routing(team="enterprise", skills=["api"]), NOW)
    with statements(db) as releasing:
        capacity.release("t1", NOW)

    assert placed.rep_id is not None
    # where it stands, the best free reps, the seat and its count, the seats on shift
    assert len(placing) == 3 + seat_statements(db) + lock_statements(db), placing
    # where it stands, the seat and its count; nobody waits, so there is nothing to hand over
    assert len(releasing) == 3 + lock_statements(db), releasing
    assert all(cached for _, cached in placing + releasing), [s for s, cached in placing + releasing if not cached]


def test_a_seat_handed_from_the_queue_is_written_in_one_statement_on_postgresql(
        db: Database, reps: RepStore, capacity: CapacityStore) -> None:
    reps.create(profile("ana", team="enterprise"), presence="available")
    capacity.place("seated", Routing(team="enterprise"), NOW)
    capacity.place("waiting", Routing(team="enterprise"), NOW)

    with statements(db) as sent:
        change = capacity.release("seated", NOW)

    assert change.handed_over == [Assignment(transfer_id="waiting", rep_id="ana")]
    writes = [sql.split()[0] for sql, _ in sent if not sql.lstrip().startswith("SELECT")]
    # the freed seat and its count; then the waiting one's queue entry, seat and count
    handing = ["DELETE", "INSERT", "UPDATE"] if db.is_sqlite else ["WITH"]
    assert writes == ["DELETE", "UPDATE", *handing]
    assert capacity.waiting() == [] and capacity.seat_holder("waiting") == "ana" and reps.get("ana").active == 1


def test_decisions_with_a_queue_are_served_by_cached_statements(db: Database, reps: RepStore,
                                                               capacity: CapacityStore) -> None:
    reps.create(profile("ana", team="enterprise"), presence="available")

    def seat_queue_move_and_hand_over(run: str) -> None:
        for transfer_id in ("seated", "q1", "q2", "q3"):
            capacity.place(f"{run}-{transfer_id}", Routing(team="enterprise"), NOW)
        capacity.release(f"{run}-q1", NOW)  # q2 and q3 move up
        capacity.release(f"{run}-seated", NOW)  # the seat goes to q2
        capacity.dispatch(NOW)
        for transfer_id in ("q2", "q3"):
            capacity.release(f"{run}-{transfer_id}", NOW)

    seat_queue_move_and_hand_over("first")  # compiles every statement once
    with statements(db) as sent:
        seat_queue_move_and_hand_over("again")

    assert all(cached for _, cached in sent), [s for s, cached in sent if not cached]


def test_reps_with_room_are_read_in_index_order_not_sorted(db: Database, reps: RepStore) -> None:
    reps.create(profile("ana", team="enterprise"), presence="available")
    with db.read() as session:
        connection = session.connection()
        compiled = _FREE_REPS_OF_TEAM.compile(dialect=connection.dialect)
        params = compiled.construct_params({"team": "enterprise", "offset": 0, "size": 32})
        if db.is_sqlite:
            plan = " ".join(row[3] for row in connection.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled}", tuple(params[name] for name in compiled.positiontup)))
            assert "ix_reps_best_free" in plan and "TEMP B-TREE" not in plan, plan
        else:  # with sorting priced out, the plan must still need none: the index gives the order
            for setting in ("enable_sort", "enable_seqscan", "enable_bitmapscan"):
                connection.execute(text(f"SET LOCAL {setting} = off"))
            plan = " ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}", params))
            assert "ix_reps_best_free" in plan and "Sort" not in plan, plan


def test_entries_no_free_rep_could_take_are_passed_over_in_sql(db: Database, reps: RepStore,
                                                               capacity: CapacityStore) -> None:
    reps.create(profile("ana", team="dach", languages=["de", "en"]), presence="available")
    reps.create(profile("bo", team="dach", languages=["en"], capacity=2), presence="busy")
    capacity.place("seated", Routing(team="dach"), NOW)
    for n in range(100):  # ana's one seat is taken: all of them wait
        capacity.place(f"de{n:03}", Routing(team="dach", language="de"), NOW)
    capacity.place("anyone", Routing(team="dach"), NOW)
    reps.set_presence("bo", "available", NOW)  # bo speaks no German: only the last one is his

    with statements(db) as sent:
        change = capacity.dispatch(NOW)

    assert change.handed_over == [Assignment(transfer_id="anyone", rep_id="bo")]
    line_reads = [sql for sql, _ in sent if sql.startswith("SELECT queue.transfer_id, queue.team")]
    assert len(line_reads) == 1, line_reads  # read in growing batches, the 100 would take three


def test_the_line_is_read_in_order_along_its_index(db: Database, reps: RepStore, capacity: CapacityStore) -> None:
    reps.create(profile("ana", team="enterprise"), presence="available")
    capacity.place("seated", Routing(team="enterprise"), NOW)
    capacity.place("waiting", Routing(team="enterprise", language="en"), NOW)
    sent = []

    def record(_conn, _cursor, statement: str, parameters, _context, _many) -> None:
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        capacity.release("seated", NOW)  # the freed seat goes to the line's head
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    statement, parameters = next((s, p) for s, p in sent if s.startswith("SELECT queue.transfer_id, queue.team"))
    with db.read() as session:
        connection = session.connection()
        if db.is_sqlite:
            plan = " ".join(row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
            assert "ix_queue_head" in plan and "TEMP B-TREE" not in plan, plan
        else:
            for setting in ("enable_sort", "enable_seqscan", "enable_bitmapscan"):
                connection.execute(text(f"SET LOCAL {setting} = off"))
            plan = " ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters))
            assert "ix_queue_head" in plan and "Sort" not in plan, plan
