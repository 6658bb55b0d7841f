"""Engine and transactions for SQLite (the embedded default) and PostgreSQL (scale-out).

Writes run in `db.session()` or, where they must not race (a rep's last free seat, the queue head),
`db.locked()`: on SQLite both are BEGIN IMMEDIATE (one writer at a time, taken before any read); on
PostgreSQL a normal transaction in which callers lock what they decide on. Pure reads use `db.read()`.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateIndex
from sqlmodel import Session, SQLModel

# Every module that defines tables; imported before create_all so they all register.
TABLE_MODULES = ("store.tables", "store.outbox", "store.crm", "store.calendar", "store.usage")

# SQLite takes one writer at a time. Threads of one process queue for it here and are woken the moment it is
# free; left to SQLite's busy handler they would sleep and retry (up to 100 ms between tries), which under
# load turned 5 ms writes into 100-300 ms waits. Writers in other processes still meet the busy timeout.
_sqlite_writers: dict[str, threading.RLock] = {}
_sqlite_writers_guard = threading.Lock()


def _sqlite_writer(database: str) -> threading.RLock:
    with _sqlite_writers_guard:
        return _sqlite_writers.setdefault(database, threading.RLock())


class Database:
    def __init__(self, url: str):
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.engine = _make_engine(url, self.is_sqlite)
        self._writer = _sqlite_writer(self.url.database or "") if self.is_sqlite else None

    def create_all(self) -> None:
        for module in TABLE_MODULES:
            importlib.import_module(module)
        SQLModel.metadata.create_all(self.engine)
        # create_all adds missing tables only: columns and indexes new since a database was made are added here.
        with self.engine.begin() as connection:
            for module in TABLE_MODULES:
                upgrade = getattr(importlib.import_module(module), "upgrade", None)
                if upgrade is not None:
                    upgrade(connection)
            for table in SQLModel.metadata.sorted_tables:
                for index in table.indexes:
                    connection.execute(CreateIndex(index, if_not_exists=True))

    def session(self):
        """A transaction that may write: commits on success, rolls back on error.

        On SQLite it begins IMMEDIATE: a deferred transaction that reads and then writes fails at once
        with "database is locked" when another writer got in between (the busy timeout cannot help).
        """
        return self._transaction(immediate=True)

    def read(self):
        """A read-only transaction: never takes the write lock, so pollers don't queue behind writers."""
        return self._transaction(immediate=False)

    def locked(self):
        """A write that must be serialised against other writers (capacity, queue order)."""
        return self._transaction(immediate=True)

    @contextmanager
    def _transaction(self, immediate: bool) -> Iterator[Session]:
        one_writer = self._writer if immediate and self._writer is not None else nullcontext()
        with one_writer, Session(self.engine, expire_on_commit=False) as session:
            if immediate and self.is_sqlite:
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()


def _make_engine(url: str, is_sqlite: bool) -> Engine:
    if not is_sqlite:
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):  # noqa: ANN001 - DB-API types
        # Let SQLAlchemy, not the driver, decide when a transaction begins (so BEGIN IMMEDIATE works).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):  # noqa: ANN001
        mode = connection.get_execution_options().get("sqlite_begin", "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine
