"""With more reps free than one batch read best first, the best rep for wanted skills or a language is
ranked in SQL (FreeReps.matching): the same rep as the plain rules, found on the index alone."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import event, insert, text

from domain.reps import WEEKDAYS, RepProfile
from domain.requests import Routing
from store.capacity import CapacityStore
from store.db import Database
from store.reps import RepStore, _matching_query
from store.tables import RepRow, profile_columns
from tests.store.support import ALL_WEEK, NOW
from tests.store.test_capacity_scale import Entry, reference_dispatch
from tests.store.test_capacity_statements import statements

SKILLS = ["api", "sso", "a,b", "a", "b", "50%", "5_"]  # the odd ones must match whole and literally
HOURS = [ALL_WEEK, ALL_WEEK, {d: [("18:00", "23:00")] for d in WEEKDAYS}]  # some reps off shift at NOW


def test_many_free_reps_are_ranked_in_sql_exactly_as_the_plain_rules(db: Database, reps: RepStore,
                                                                     capacity: CapacityStore) -> None:
    rnd = random.Random(11)
    for n in range(90):
        reps.create(RepProfile(id=f"r{n:02}", name=f"Rep {n}", team=rnd.choice(["enterprise", "enterprise", "smb"]),
                               skills=rnd.sample(SKILLS, rnd.randint(0, 3)),
                               languages=rnd.choice([["en"], ["en"], ["en", "de"], ["fr"]]),
                               capacity=rnd.choice([1, 2, 3]), timezone="UTC", working_hours=rnd.choice(HOURS)),
                    presence=rnd.choice(["available", "available", "available", "busy"]))
    ranked_in_sql = 0
    for step in range(80):
        now = NOW + timedelta(minutes=step)
        routing = Routing(team=rnd.choice(["enterprise", "smb", None]), skills=rnd.sample(SKILLS, rnd.randint(0, 3)),
                          language=rnd.choice([None, "en", "de", "fr"]),
                          preferred_rep_id=f"r{rnd.randrange(90):02}" if rnd.random() < 0.2 else None)
        exclude = [f"r{rnd.randrange(90):02}" for _ in range(rnd.choice([0, 1, 3]))]
        expected = reference_dispatch(reps.list(), [_entry(f"t{step}", routing, exclude)], now)

        with statements(db) as sent:
            placed = capacity.place(f"t{step}", routing, now, exclude)

        assert placed.rep_id == (expected[0].rep_id if expected else None), (routing, exclude)
        ranked_in_sql += any("reps.shift NOT IN" in sql for sql, _ in sent)  # FreeReps.matching's read
        if rnd.random() < 0.5:
            capacity.release(f"t{step}", now)
    assert ranked_in_sql >= 30  # most of these placements took the SQL ranking, not the best-first read


def _entry(transfer_id: str, routing: Routing, exclude: list[str]) -> Entry:
    return Entry(transfer_id, routing.team or "", routing.priority,
                 {**routing.model_dump(mode="json"), "exclude": sorted(exclude)})


@pytest.mark.parametrize(("skill", "others"), [("a", ["a,b", "ab"]), ("b", ["a,b", "bb"]), ("a,b", ["a", "b"]),
                                               ("5_", ["50", "x5_"])])
def test_a_skill_matches_whole_and_literally_in_sql(reps: RepStore, capacity: CapacityStore, skill: str,
                                                    others: list[str]) -> None:
    # Forty reps ahead best first whose skills hold `skill` only in part, or as a LIKE pattern matches it;
    # the one rep who has it exactly comes after them all (half loaded), but must be chosen.
    for n in range(40):
        reps.create(RepProfile(id=f"f{n:02}", name="F", team="enterprise", skills=others, working_hours=ALL_WEEK),
                    presence="available")
    reps.create(RepProfile(id="zed", name="Zed", team="enterprise", skills=[skill], capacity=2,
                           working_hours=ALL_WEEK), presence="available")
    assert capacity.reserve("held", "zed", NOW)

    assert capacity.place("t1", Routing(team="enterprise", skills=[skill]), NOW).rep_id == "zed"


def test_the_sql_ranking_reads_the_index_entries_alone(db: Database, reps: RepStore) -> None:
    reps.create(RepProfile(id="ana", name="Ana", team="enterprise", skills=["api"], working_hours=ALL_WEEK),
                presence="available")
    with db.session() as session:  # a directory of some size, vacuumed and analysed (as autovacuum keeps it)
        rows = [{"id": f"r{n:03}", "presence": ["available", "busy"][n % 2], "active": 0,
                 **profile_columns(RepProfile(id=f"r{n:03}", name="R", team=["enterprise", "smb", "renewals"][n % 3],
                                              skills=[["sso"], ["billing"], []][n % 3]).model_dump(mode="json"))}
                for n in range(300)]
        session.execute(insert(RepRow.__table__), rows)
    if not db.is_sqlite:
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE reps")
    values = {"team": "enterprise", "language": "%,en,%", "skill0": ",api,", "skill1": ",sso,", "exclude": ["bo"],
              "off_shift": ["x"], "offset": 0, "size": 8}
    sent = []

    def record(_conn, _cursor, statement: str, parameters, _context, _many) -> None:
        sent.append((statement, parameters))

    with db.read() as session:
        connection = session.connection()
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            found = [row[0] for row in connection.execute(_matching_query(True, True, 2), values)]
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        (statement, parameters), = sent
        assert len(found) == 8 and found[0] == "ana"  # a wanted skill and never assigned, ahead of "r000" by id
        if db.is_sqlite:
            plan = " ".join(row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
            assert "COVERING INDEX ix_reps_best_free" in plan, plan
        else:
            for setting in ("enable_seqscan", "enable_bitmapscan"):
                connection.execute(text(f"SET LOCAL {setting} = off"))
            plan = " ".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters))
            assert "Index Only Scan using ix_reps_best_free" in plan, plan
