"""A database made before the routing columns and indexes existed is brought up to date at start-up."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Connection, inspect, text

from domain.placement import Assignment
from domain.requests import Routing
from store.capacity import CapacityStore
from store.db import Database
from store.reps import RepStore
from store.tables import profile_columns
from tests.store.support import NOW, profile

# The schema's past versions, newest last: the (table, column)s and indexes each added.
VERSIONS = {
    "routing columns": {"columns": [("reps", c) for c in ("capacity", "active", "languages", "shift", "profile_rev")],
                        "indexes": ("ix_reps_room", "ix_reps_shift", "ix_queue_team_order")},
    "skills and queue language": {"columns": [("reps", "skills"), ("queue", "language")],
                                  "indexes": ("ix_reps_best_free", "ix_queue_head")},
}
# What the routing columns' version had that the next replaced, made as it was.
REPLACED = {"ix_reps_best_first": "CREATE INDEX ix_reps_best_first ON reps (presence, team, "
                                  "(CAST(active AS FLOAT) / capacity), (last_assigned_at IS NOT NULL), "
                                  "last_assigned_at, id, active, capacity, profile_rev, shift) WHERE active < capacity",
            "ix_queue_line": "CREATE INDEX ix_queue_line ON queue (priority DESC, arrival)"}


def make_it_old(db: Database, before: str) -> tuple[set[tuple[str, str]], set[str]]:
    """The schema as it was before the version `before` was added; returns that version's and newer ones'
    columns and indexes, which start-up must add."""
    newer = list(VERSIONS)[list(VERSIONS).index(before):]
    columns = {column for version in newer for column in VERSIONS[version]["columns"]}
    indexes = {index for version in newer for index in VERSIONS[version]["indexes"]}
    with db.engine.begin() as connection:
        for index in indexes:
            connection.execute(text(f"DROP INDEX {index}"))
        for table, column in columns:
            connection.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        if "routing columns" not in newer:
            for create in REPLACED.values():
                connection.execute(text(create))
    return columns, indexes


def column_names(connection: Connection) -> set[tuple[str, str]]:
    return {(table, c["name"]) for table in ("reps", "queue") for c in inspect(connection).get_columns(table)}


def index_names(connection: Connection) -> set[str]:
    """Read from the catalog: SQLAlchemy's SQLite reflection leaves out indexes on expressions."""
    if connection.dialect.name == "sqlite":
        return set(connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars())
    return set(connection.execute(text("SELECT indexname FROM pg_indexes")).scalars())


@pytest.mark.parametrize("before", list(VERSIONS))
def test_start_up_adds_the_columns_and_fills_them_from_profiles_and_seats(fresh_url: str, before: str) -> None:
    db = Database(fresh_url)
    try:
        db.create_all()
        columns, new_indexes = make_it_old(db, before)
        with db.engine.connect() as connection:
            assert not columns & column_names(connection)
            old_indexes = index_names(connection)
        assert not new_indexes & old_indexes
        assert (set(REPLACED) <= old_indexes) == (before != "routing columns")
        ana = profile("ana", team="enterprise", capacity=2, languages=["de", "en"], skills=["api", "a,b", "50%"])
        bo = profile("bo", team="enterprise", skills=["a"])
        with db.engine.begin() as connection:
            present = {column["name"] for column in inspect(connection).get_columns("reps")}
            # More reps with room than one batch read best first: the skills are matched in SQL.
            for rep in [ana, bo, *(profile(f"f{n:02}", team="enterprise") for n in range(40))]:
                row = {**profile_columns(rep.model_dump(mode="json")), "id": rep.id, "presence": "available",
                       "active": 1 if rep is ana else 0}
                row = {column: value for column, value in row.items() if column in present}  # as the old code wrote
                row["profile"] = json.dumps(row["profile"])
                names = ", ".join(row)
                connection.execute(text(f"INSERT INTO reps ({names}) VALUES ({', '.join(f':{c}' for c in row)})"), row)
            connection.execute(text("INSERT INTO seats (transfer_id, rep_id, reserved_at) VALUES ('old', 'ana', :at)"),
                               {"at": NOW})
            for arrival, language in enumerate(["de", None], start=1):  # waiting for a team with nobody in it
                routing = {**Routing(team="smb", language=language).model_dump(mode="json"), "exclude": []}
                connection.execute(text("INSERT INTO queue (transfer_id, team, routing, priority, arrival, "
                                        "enqueued_at) VALUES (:id, 'smb', :routing, 0, :arrival, :at)"),
                                   {"id": f"w{arrival}", "routing": json.dumps(routing), "arrival": arrival, "at": NOW})

        db.create_all()  # what start-up runs
        db.create_all()  # and again: nothing left to do

        with db.engine.connect() as connection:
            indexes = index_names(connection)
            row = connection.execute(text("SELECT capacity, active, languages, shift, profile_rev, skills FROM reps "
                                          "WHERE id = 'ana'")).one()
            queue = connection.execute(text("SELECT transfer_id, language FROM queue ORDER BY arrival")).all()
        assert new_indexes <= indexes and not set(REPLACED) & indexes
        assert [tuple(entry) for entry in queue] == [("w1", "de"), ("w2", "")]
        assert row[:3] == (2, 1, ",de,en,") and row.shift and row.profile_rev
        assert row.skills == ",api,a%2Cb,50%25,"
        reps, capacity = RepStore(db), CapacityStore(db)
        assert reps.get("ana").active == 1
        # bo leads best first (no load, and "bo" < "f00"), ana (half loaded) comes last: a skill only she has,
        # exactly as written, puts her first; one that is only part of hers does not
        for skill, rep_id in [("a,b", "ana"), ("50%", "ana"), ("b", "bo"), ("a", "bo")]:
            assert capacity.place(f"t-{skill}", Routing(team="enterprise", skills=[skill]), NOW).rep_id == rep_id
            capacity.release(f"t-{skill}", NOW)
        assert capacity.place("t1", Routing(team="enterprise", language="de"), NOW).rep_id == "ana"
        assert capacity.place("t2", Routing(team="enterprise", language="de"), NOW).position == 1  # capacity 2: full
        assert capacity.release("old", NOW).handed_over == [Assignment(transfer_id="t2", rep_id="ana")]
    finally:
        db.dispose()
