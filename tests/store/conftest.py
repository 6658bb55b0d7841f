"""Store fixtures; `db` (SQLite and PostgreSQL) comes from tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from store.capacity import CapacityStore
from store.db import Database
from store.reps import RepStore
from tests.conftest import throwaway_postgres


@pytest.fixture
def reps(db: Database) -> RepStore:
    return RepStore(db)


@pytest.fixture
def capacity(db: Database) -> CapacityStore:
    return CapacityStore(db)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty database of its own, for upgrade tests (the shared PostgreSQL one must keep the current schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    with throwaway_postgres("wt_upgrade") as url:
        yield url
