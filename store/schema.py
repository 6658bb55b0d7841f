"""The app database's schema: Alembic migrations (store/migrations/versions/, one line of revisions), applied by
`migrate()`, which `warm-transfer migrate`, `up`, `api` and `worker` run.

One process migrates at a time: everything runs in one transaction that first takes the database's migration lock
(PostgreSQL's transaction-level advisory lock, SQLite's EXCLUSIVE lock). Processes started together on an empty
database so create the schema once; the others wait, then find nothing left to do. Both databases change their
schema transactionally: a migration that fails leaves the database as it was.

A database the app made before it had migrations (its tables, no `alembic_version`) is compared with the baseline
revision, which is the schema the app made then: if they match, it is recorded as at the baseline and upgraded from
there; if not, nothing changes and SchemaError says what differs.
"""

from __future__ import annotations

import importlib
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Connection, Index, MetaData, func, inspect, select
from sqlalchemy.schema import SchemaItem
from sqlmodel import SQLModel

from store.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001"
# Every module that defines tables: imported, they register them with SQLModel.metadata.
TABLE_MODULES = ("store.tables", "store.outbox", "store.crm", "store.crm_notes", "store.calendar", "store.usage",
                 "store.slack", "store.watchdog")
_MIGRATION_LOCK_ID = 0x5754_4D49


class SchemaError(RuntimeError):
    """The database holds the app's tables, but not in a shape any revision knows."""


def models() -> MetaData:
    """The tables as the code defines them: what the newest revision must create."""
    for module in TABLE_MODULES:
        importlib.import_module(module)
    return SQLModel.metadata


def migrate(db: Database) -> str:
    """Bring the database to the newest revision (see above); returns that revision."""
    with db.engine.connect() as connection:
        sqlite = connection.connection.driver_connection if db.is_sqlite else None
        if sqlite is not None:
            # A migration that rebuilds a table (Alembic's batch mode on SQLite) drops the old one, and with foreign
            # keys on that would delete its children's rows; SQLite turns them off only outside a transaction.
            sqlite.execute("PRAGMA foreign_keys=OFF")
            connection.execution_options(sqlite_begin="EXCLUSIVE")
        try:
            with connection.begin():
                if sqlite is None:
                    connection.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK_ID)))
                config = _config(connection)
                if _made_before_migrations(connection):
                    _check_baseline(connection)
                    command.stamp(config, BASELINE)
                command.upgrade(config, "head")
                return MigrationContext.configure(connection).get_current_revision()
        finally:
            if sqlite is not None:
                sqlite.execute("PRAGMA foreign_keys=ON")


def differences(connection: Connection, metadata: MetaData) -> list[str]:
    """What the database's schema lacks or has more of than `metadata`, among `metadata`'s tables, one line each
    ("add_column reps.skills"): as Alembic compares them (see `comparing`), and the indexes on expressions by name."""
    context = MigrationContext.configure(connection, opts=comparing(metadata))
    with _quiet_about_expression_indexes():
        found = [_described(difference) for difference in compare_metadata(context, metadata)]
    present = set(index_definitions(connection))
    return found + [f"add_index {index.table.name}.{index.name}" for index in _on_expressions(metadata)
                    if index.name not in present]


def comparing(metadata: MetaData) -> dict[str, Any]:
    """How Alembic compares a database with `metadata` (autogenerate, `differences`): only `metadata`'s tables, and
    not their indexes on expressions, which it cannot compare (SQLite does not reflect them; PostgreSQL gives them
    back rewritten, `(active)::double precision`): tests/store/test_schema.py compares those by their definitions."""
    tables, skipped = set(metadata.tables), {index.name for index in _on_expressions(metadata)}

    def include_object(_item: Any, name: str | None, kind: str, _reflected: bool, _compare_to: Any) -> bool:
        return name in tables if kind == "table" else not (kind == "index" and name in skipped)

    return {"include_object": include_object, "compare_server_default": _server_default_differs}


def index_definitions(connection: Connection) -> dict[str, str]:
    """Every index of the database by name, with its definition as the catalog holds it."""
    if connection.dialect.name == "sqlite":
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
    else:
        query = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
    return dict(connection.exec_driver_sql(query).all())


def new_revision(message: str) -> Path:
    """Write the next revision: what the models have that the newest revision does not, as Alembic finds it on a
    scratch SQLite database brought to the newest revision (store/migrations/__main__.py). Returns its file."""
    with tempfile.TemporaryDirectory() as scratch:
        db = Database(f"sqlite:///{scratch}/head.db")
        try:
            head = migrate(db)
            with db.engine.connect() as connection, _quiet_about_expression_indexes():
                config = _config(connection)
                # The template imports what autogenerate may use; ruff drops what this revision does not.
                for name, value in {"hooks": "ruff", "ruff.type": "module", "ruff.module": "ruff",
                                    "ruff.options": "check --fix --quiet REVISION_SCRIPT_FILENAME"}.items():
                    config.set_section_option("post_write_hooks", name, value)
                script = command.revision(config, message, autogenerate=True, rev_id=f"{int(head) + 1:04d}")
        finally:
            db.dispose()
    return Path(script.path)


def head() -> str:
    """The newest revision."""
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def baseline() -> MetaData:
    """The schema of the baseline revision."""
    return ScriptDirectory(str(MIGRATIONS)).get_revision(BASELINE).module.schema


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection  # env.py runs the migrations on it
    return config


def _made_before_migrations(connection: Connection) -> bool:
    names = set(inspect(connection).get_table_names())
    return "alembic_version" not in names and bool(names & set(baseline().tables))


def _check_baseline(connection: Connection) -> None:
    found = differences(connection, baseline())
    if found:
        raise SchemaError("The database has the app's tables but no migration record, and they differ from the "
                          "schema the app made before it had migrations, so it cannot be upgraded: "
                          + "; ".join(found))


@contextmanager
def _quiet_about_expression_indexes() -> Iterator[None]:
    """Without the warnings that SQLite's indexes on expressions cannot be reflected: `comparing` leaves them out."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index")
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        yield


def _on_expressions(metadata: MetaData) -> list[Index]:
    """The indexes on more than columns, each in either order."""
    def plain(expression: Any) -> bool:
        return isinstance(expression, Column) or isinstance(getattr(expression, "element", None), Column)  # DESC

    return [index for table in metadata.tables.values() for index in table.indexes
            if not all(map(plain, index.expressions))]


def _server_default_differs(_context: Any, _inspected: Column, _column: Column, inspected_default: str | None,
                            _default: Any, rendered_default: str | None) -> bool | None:
    """Alembic's own comparison (None), except that an empty string default is the same as SQLite's reflection of
    it, "('')": Alembic takes that for an expression (its pattern for a quoted string wants a character in it)."""
    return False if rendered_default == "" and inspected_default == "('')" else None


def _described(difference: Any) -> str:
    """One of compare_metadata's differences by the names of what it concerns: ("add_column", None, "reps",
    Column("skills")) is "add_column reps.skills"; a modification, a list of one tuple, names its table and column."""
    kind, *parts = difference[0] if isinstance(difference, list) else difference
    names = [part for part in parts if isinstance(part, str)]
    for part in parts:
        if isinstance(part, SchemaItem):  # the table, column, index or constraint concerned
            table = getattr(part, "table", None)
            names = [table.name] if table is not None else []
            names.append(part.name or type(part).__name__)  # a constraint may have no name
            break
    return f"{kind} {'.'.join(names)}"
