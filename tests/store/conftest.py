"""Store fixtures; `db` (SQLite and PostgreSQL) comes from tests/conftest.py."""

from __future__ import annotations

import pytest

from store.capacity import CapacityStore
from store.db import Database
from store.reps import RepStore


@pytest.fixture
def reps(db: Database) -> RepStore:
    return RepStore(db)


@pytest.fixture
def capacity(db: Database) -> CapacityStore:
    return CapacityStore(db)
