"""A database made before the routing columns and indexes existed is brought up to date at start-up."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, text

from domain.requests import Routing
from store.capacity import Assignment, CapacityStore
from store.db import Database
from store.reps import RepStore
from tests.conftest import throwaway_postgres
from tests.store.support import NOW, profile

NEW_COLUMNS = ("capacity", "active", "languages", "shift", "profile_rev")
NEW_INDEXES = ("ix_reps_room", "ix_reps_best_first", "ix_reps_shift", "ix_queue_line", "ix_queue_team_order")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database of its own (the shared PostgreSQL one must keep the current schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with throwaway_postgres("wt_upgrade") as url:
        yield url


def make_it_old(db: Database) -> None:
    """The schema as it was: no routing copies of the profile, no load counter, none of the new indexes."""
    with db.engine.begin() as connection:
        for index in NEW_INDEXES:
            connection.execute(text(f"DROP INDEX {index}"))
        for column in NEW_COLUMNS:
            connection.execute(text(f"ALTER TABLE reps DROP COLUMN {column}"))


def index_names(connection: Connection) -> set[str]:
    """Read from the catalog: SQLAlchemy's SQLite reflection leaves out indexes on expressions."""
    if connection.dialect.name == "sqlite":
        return set(connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'")).scalars())
    return set(connection.execute(text("SELECT indexname FROM pg_indexes")).scalars())


def test_start_up_adds_the_columns_and_fills_them_from_profiles_and_seats(fresh_url: str) -> None:
    db = Database(fresh_url)
    try:
        db.create_all()
        make_it_old(db)
        ana = profile("ana", team="enterprise", capacity=2, languages=["de", "en"])
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO reps (id, team, profile, presence) VALUES (:id, :team, :profile, :p)"),
                               {"id": "ana", "team": "enterprise", "profile": json.dumps(ana.model_dump(mode="json")),
                                "p": "available"})
            connection.execute(text("INSERT INTO seats (transfer_id, rep_id, reserved_at) VALUES ('old', 'ana', :at)"),
                               {"at": NOW})

        db.create_all()  # what start-up runs
        db.create_all()  # and again: nothing left to do

        with db.engine.connect() as connection:
            indexes = index_names(connection)
            row = connection.execute(text("SELECT capacity, active, languages, shift, profile_rev FROM reps")).one()
        assert set(NEW_INDEXES) <= indexes
        assert row[:3] == (2, 1, ",de,en,") and row.shift and row.profile_rev
        reps, capacity = RepStore(db), CapacityStore(db)
        assert reps.get("ana").active == 1
        assert capacity.place("t1", Routing(team="enterprise", language="de"), NOW).rep_id == "ana"
        assert capacity.place("t2", Routing(team="enterprise"), NOW).position == 1  # capacity 2: full now
        assert capacity.release("old", NOW).handed_over == [Assignment(transfer_id="t2", rep_id="ana")]
    finally:
        db.dispose()
