"""Every store test runs twice: on a fresh SQLite file and on a throw-away PostgreSQL database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlmodel import SQLModel

from store.capacity import CapacityStore
from store.db import Database
from store.reps import RepStore

PG_ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    try:
        admin = psycopg.connect(PG_ADMIN_DSN, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is unreachable: {exc}")
    name = f"wt_store_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    schema = Database(url)
    schema.create_all()
    schema.dispose()
    try:
        yield url
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path) -> Iterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'app.db'}")
        database.create_all()
    else:
        database = Database(request.getfixturevalue("postgres_url"))
        _empty_all_tables(database)
    yield database
    database.dispose()


def _empty_all_tables(database: Database) -> None:
    tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
    with database.session() as session:
        session.connection().exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
def reps(db: Database) -> RepStore:
    return RepStore(db)


@pytest.fixture
def capacity(db: Database) -> CapacityStore:
    return CapacityStore(db)
