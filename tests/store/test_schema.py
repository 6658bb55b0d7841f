"""The app database's schema comes from Alembic migrations (store.schema): an empty database gets the models' schema,
one made before migrations is recognised and upgraded with its data, processes started together migrate once,
and the next migration is written from the models."""

from __future__ import annotations

import shutil
import tomllib
import warnings
from collections.abc import Iterator
from contextlib import nullcontext
from fnmatch import fnmatch
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, select, text

from domain.requests import Routing
from store import schema
from store.capacity import CapacityStore
from store.db import Database
from store.keys import KeyStore
from store.outbox import OutboxStore
from store.reps import RepStore
from store.schema import SchemaError, differences, index_definitions, migrate, models
from store.usage import UsageStore
from tests.conftest import REPO, throwaway_postgres
from tests.store.support import NOW, profile, run_at_once

PRE_ALEMBIC = Path(__file__).with_name("pre_alembic")  # the schema the app made before migrations, on each database
HEAD = schema.head()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own, SQLite or PostgreSQL (a new one, dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.db'}"
        return
    with throwaway_postgres("wt_schema") as url:
        yield url


@pytest.fixture
def empty(empty_url: str) -> Iterator[Database]:
    db = Database(empty_url)
    yield db
    db.dispose()


def made_before_migrations(db: Database) -> None:
    """The database as the app made it before it had migrations: its DDL, dumped then."""
    dialect = "sqlite" if db.is_sqlite else "postgresql"
    ddl = (PRE_ALEMBIC / f"{dialect}.sql").read_text()
    with db.engine.begin() as connection:
        if db.is_sqlite:
            connection.connection.driver_connection.executescript(ddl)
        else:
            connection.exec_driver_sql(ddl)


def every_row(db: Database, columns: dict[str, list[str]] | None = None) -> dict[str, list[dict]]:
    """Every row of every table the database has (or of `columns`' tables, those columns only), in key order."""
    tables = MetaData()
    with warnings.catch_warnings():  # an index on an expression cannot be reflected; rows are all we read here
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        tables.reflect(db.engine)
    with db.engine.connect() as connection:
        rows = {}
        for table in tables.sorted_tables:
            if table.name == "alembic_version" or (columns is not None and table.name not in columns):
                continue
            names = columns[table.name] if columns is not None else [column.name for column in table.columns]
            key = [table.c[column.name] for column in table.primary_key.columns]
            selected = connection.execute(select(*(table.c[name] for name in names)).order_by(*key))
            rows[table.name] = [dict(row._mapping) for row in selected]
    return rows


def revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


def test_an_empty_database_gets_the_schema_of_the_models(empty: Database, tmp_path: Path) -> None:
    assert migrate(empty) == HEAD == revision(empty)
    assert migrate(empty) == HEAD  # and again: nothing left to do
    with empty.engine.connect() as connection:
        assert differences(connection, models()) == []
        migrated = index_definitions(connection)
    # Alembic does not compare indexes on expressions: the catalog's definitions of every index must be those the
    # models make, on a database of the same kind.
    with (throwaway_postgres("wt_models") if not empty.is_sqlite else nullcontext(f"sqlite:///{tmp_path}/m.db")) \
            as url:
        made = Database(url)
        try:
            models().create_all(made.engine)
            with made.engine.connect() as connection:
                expected = index_definitions(connection)
        finally:
            made.dispose()
    migrated.pop("alembic_version_pkc", None)  # the version table's own (PostgreSQL)
    assert migrated == expected


def test_a_database_made_before_migrations_is_recognised_and_upgraded_with_its_data(empty: Database) -> None:
    made_before_migrations(empty)
    # Written by the stores as they were then: the schema was the same.
    reps, capacity, outbox = RepStore(empty), CapacityStore(empty), OutboxStore(empty)
    reps.upsert(profile("ana", team="enterprise", capacity=1, languages=["de", "en"], skills=["api"]), "available")
    reps.upsert(profile("bo", team="smb"), "offline")
    assert capacity.place("t-1", Routing(team="enterprise"), NOW).rep_id == "ana"
    assert capacity.place("t-2", Routing(team="enterprise", language="de"), NOW).position == 1
    outbox.append([{"transfer_id": "t-1", "key": "offer", "audience": "rep", "rep_id": "ana", "kind": "offer",
                    "payload": {"transfer_id": "t-1"}, "callback_url": "https://bot.example/hooks"}])
    key = KeyStore(empty).issue("rep", "ana", NOW)
    UsageStore(empty).record("t-1", "ana", "summary_seen", NOW)
    before = every_row(empty)
    assert revision(empty) is None

    assert migrate(empty) == HEAD == revision(empty)

    # Later revisions add tables and columns; what was there is as it was.
    assert every_row(empty, {table: list(rows[0]) for table, rows in before.items() if rows}) == {
        table: rows for table, rows in before.items() if rows}
    assert reps.get("ana").active == 1 and KeyStore(empty).resolve(key).rep_id == "ana"
    assert [row.kind for row in outbox.for_rep("ana")] == ["offer"]
    assert capacity.release("t-1", NOW).handed_over[0].transfer_id == "t-2"  # the queue's line still serves
    with empty.engine.connect() as connection:
        assert differences(connection, models()) == []


def test_a_database_unlike_the_baseline_is_left_as_it_is(empty: Database) -> None:
    made_before_migrations(empty)
    with empty.engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_reps_best_free"))
        connection.execute(text("ALTER TABLE reps DROP COLUMN skills"))
    with pytest.raises(SchemaError, match=r"add_column reps\.skills; add_index reps\.ix_reps_best_free"):
        migrate(empty)
    assert revision(empty) is None


def test_processes_started_together_on_an_empty_database_migrate_it_once(empty_url: str) -> None:
    # Each with a database of its own, as processes have: only the migration lock keeps them apart.
    databases = [Database(empty_url) for _ in range(4)]
    try:
        with databases[0].engine.connect():  # a SQLite file is made (in WAL mode) by the first to open it
            pass
        assert run_at_once([lambda db=db: migrate(db) for db in databases]) == [HEAD] * 4
        with databases[0].engine.connect() as connection:
            assert differences(connection, models()) == []
    finally:
        for db in databases:
            db.dispose()


def test_the_revisions_form_one_line_each_file_named_after_its_revision() -> None:
    script = ScriptDirectory(str(schema.MIGRATIONS))
    revisions = list(script.walk_revisions())  # newest first
    assert script.get_heads() == [HEAD] and revisions[-1].revision == schema.BASELINE
    assert [r.revision for r in reversed(revisions)] == [f"{n:04d}" for n in range(1, len(revisions) + 1)]
    assert all(Path(r.path).name.startswith(f"{r.revision}_") for r in revisions)


def test_the_next_migration_is_written_from_the_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema, "MIGRATIONS", shutil.copytree(schema.MIGRATIONS, tmp_path / "migrations"))
    metadata = models()
    notes = sa.Table("scratch_notes", metadata, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("body", sa.String(200), nullable=False, index=True))
    try:
        written = schema.new_revision("scratch notes")
        assert written.name == f"{int(HEAD) + 1:04d}_scratch_notes.py"
        source = written.read_text()
        assert f"down_revision = '{HEAD}'" in source and "op.create_table('scratch_notes'" in source
        assert "import sqlmodel" not in source  # imports it does not use are gone
        db = Database(f"sqlite:///{tmp_path / 'app.db'}")
        try:
            assert migrate(db) == f"{int(HEAD) + 1:04d}"
            with db.engine.connect() as connection:
                assert differences(connection, metadata) == []
        finally:
            db.dispose()
    finally:
        metadata.remove(notes)


def test_the_migrations_ship_in_the_package() -> None:
    """Each file under store/migrations is in a package (a directory with __init__.py) and, unless Python, matches
    the package data that pyproject.toml ships."""
    shipped = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    files = [path for path in schema.MIGRATIONS.rglob("*") if path.is_file() and "__pycache__" not in path.parts]
    assert {path.name for path in files} >= {"env.py", "script.py.mako", "0001_baseline.py"}
    for path in files:
        assert (path.parent / "__init__.py").exists(), path
        assert path.suffix == ".py" or any(fnmatch(path.name, pattern) for pattern in shipped), path

