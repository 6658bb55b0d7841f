"""Engine and transactions for SQLite (the embedded default) and PostgreSQL (scale-out).

Writes run in `db.session()` or, where they must not race (a rep's last free seat, the queue head),
`db.locked()`: on SQLite both are BEGIN IMMEDIATE (one writer at a time, taken before any read); on
PostgreSQL a normal transaction in which callers lock what they decide on. Pure reads use `db.read()`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

# SQLite takes one writer at a time. Threads of one process queue for it here and are woken the moment it is
# free; left to SQLite's busy handler they would sleep and retry (up to 100 ms between tries), which under
# load turned 5 ms writes into 100-300 ms waits. Writers in other processes still meet the busy timeout.
_sqlite_writers: dict[str, threading.RLock] = {}
_sqlite_writers_guard = threading.Lock()


def _sqlite_writer(database: str) -> threading.RLock:
    with _sqlite_writers_guard:
        return _sqlite_writers.setdefault(database, threading.RLock())


# SQLite's own checkpoint (copying the write-ahead log back into the database file) runs inside the commit
# that takes the log past its threshold: 5-9 ms, with the fsync, added to about one write in a hundred, which
# was most of a routing decision's 99th percentile. So a thread of each writing process does it instead (see
# _Checkpointer), and commits never do (wal_autocheckpoint=0).
#
# Every checkpoint runs with the database's write lock held. SQLite 3.7.0-3.51.2 (Debian 12 ships 3.40.1) has
# the "WAL-reset bug": a checkpoint that starts just after another finished, while a third connection commits
# and so restarts the log, can record a wrong backfill point, and a later checkpoint then skips part of a
# transaction, corrupting the file. `up` met it (indexes missing rows) with two processes checkpointing every
# 50 ms under load. With the write lock held no commit can restart the log during a checkpoint. Writers wait
# for a checkpoint (a few ms, with its fsync), so it runs once a second rather than after every burst: the log
# holds a second of writes (about a megabyte at 5 transfers a second), and a write meets a checkpoint rarely.
_CHECKPOINT_EVERY_S = 1.0


class _Checkpointer:
    """Checkpoints a SQLite database from a thread of its own, soon after writes: PASSIVE, so it never waits
    for readers (it copies what no reader still needs, and the rest next time); writers, in this process and
    others, wait for it (see above)."""

    def __init__(self, path: str, writer: threading.RLock):
        self.path = path
        self.writer = writer
        self._written, self._stopping = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def written(self) -> None:
        if self._thread is None:
            with self._start:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
                    self._thread.start()
        self._written.set()

    def stop(self) -> None:
        """End the thread (the next write starts another)."""
        with self._start:
            if self._thread is None:
                return
            self._stopping.set()
            self._written.set()
            self._thread.join(timeout=5)
            self._thread = None
            self._stopping.clear()

    def _run(self) -> None:
        checkpointer = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        lock_holder = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=0)
        try:
            while True:
                self._written.wait()
                if self._stopping.is_set():
                    return
                self._written.clear()
                done = False
                with suppress(sqlite3.Error):
                    done = self.checkpoint(checkpointer, lock_holder)
                if not done:  # another process was writing, or the checkpoint failed: try again next time
                    self._written.set()
                if self._stopping.wait(_CHECKPOINT_EVERY_S):  # at most this often: writes come in bursts
                    return
        finally:
            checkpointer.close()
            lock_holder.close()

    def checkpoint(self, checkpointer: sqlite3.Connection, lock_holder: sqlite3.Connection) -> bool:
        """One PASSIVE checkpoint while `lock_holder` holds the write lock (an empty IMMEDIATE transaction:
        it writes nothing, so it restarts no log); False, with nothing done, if another process holds it.

        This process's writers queue on their lock meanwhile. The write lock is only tried, never waited
        for: waiting in SQLite's busy handler (sleeps of up to 100 ms) with this process's writers queued
        behind would stall them all."""
        with self.writer:
            try:
                lock_holder.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:  # "database is locked": another process is writing
                return False
            try:
                checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            finally:
                lock_holder.execute("ROLLBACK")
        return True


class Database:
    def __init__(self, url: str):
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.engine = _make_engine(url, self.is_sqlite)
        self._writer = _sqlite_writer(self.url.database or "") if self.is_sqlite else None
        in_file = self.is_sqlite and self.url.database not in (None, "", ":memory:")
        self._checkpointer = _Checkpointer(self.url.database, self._writer) if in_file else None

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
        if immediate and self._checkpointer is not None:
            self._checkpointer.written()

    def ping(self) -> bool:
        """Whether the database answers a query now."""
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except SQLAlchemyError:
            return False
        return True

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()


def _make_engine(url: str, is_sqlite: bool) -> Engine:
    if not is_sqlite:
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):  # DB-API types
        # Let SQLAlchemy, not the driver, decide when a transaction begins (so BEGIN IMMEDIATE works).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's thread does it, under the write lock
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection):
        mode = connection.get_execution_options().get("sqlite_begin", "")
        connection.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine
