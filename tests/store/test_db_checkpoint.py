"""SQLite's write-ahead log is copied back into the database file by a thread of its own, not by commits."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from sqlalchemy import text

from store.db import Database


def test_commits_leave_the_checkpoint_to_the_database_s_own_thread(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    db = Database(f"sqlite:///{path}")
    try:
        with db.session() as session:
            connection = session.connection()
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0  # a commit never does
            connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        for _ in range(4):  # about 2 MB, some 500 pages, over several commits
            with db.session() as session:
                session.connection().execute(text("INSERT INTO notes (body) VALUES (:body)"),
                                             [{"body": "x" * 5000} for _ in range(100)])

        # Only a checkpoint writes the pages into the database file itself: the thread does it soon.
        deadline = time.monotonic() + 5
        while path.stat().st_size < 2_000_000 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert path.stat().st_size >= 2_000_000
    finally:
        db.dispose()

    # Disposed, its thread ended; a later write starts another.
    assert db._checkpointer._thread is None
    try:
        with db.session() as session:
            session.connection().execute(text("INSERT INTO notes (body) VALUES ('after')"))
        assert db._checkpointer._thread.is_alive()
    finally:
        db.dispose()


class _WriteAttempt:
    """Stands in for the checkpointing connection: before checkpointing, another connection (as another
    process would) tries to commit, without waiting."""

    def __init__(self, inner: sqlite3.Connection, path: Path):
        self.inner, self.path, self.refused = inner, path, None

    def execute(self, sql: str) -> sqlite3.Cursor:
        other = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        try:
            other.execute("INSERT INTO notes (body) VALUES ('during the checkpoint')")
        except sqlite3.OperationalError as refusal:
            self.refused = str(refusal)
        finally:
            other.close()
        return self.inner.execute(sql)


def test_no_commit_can_restart_the_log_while_a_checkpoint_runs(tmp_path: Path) -> None:
    """SQLite's WAL-reset bug (3.7.0-3.51.2) needs a commit during a checkpoint; every checkpoint holds the
    write lock, so none can happen."""
    path = tmp_path / "app.db"
    db = Database(f"sqlite:///{path}")
    checkpointer = sqlite3.connect(path, isolation_level=None)
    lock_holder = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        with db.session() as session:
            session.connection().execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        attempt = _WriteAttempt(checkpointer, path)

        assert db._checkpointer.checkpoint(attempt, lock_holder) is True

        assert attempt.refused == "database is locked"
        with db.session() as session:  # and the lock is given back
            session.connection().execute(text("INSERT INTO notes (body) VALUES ('after')"))
        assert checkpointer.execute("SELECT body FROM notes").fetchall() == [("after",)]
    finally:
        checkpointer.close()
        lock_holder.close()
        db.dispose()


def test_a_checkpoint_gives_way_to_another_process_s_writer_at_once(tmp_path: Path) -> None:
    """It only tries the write lock: waiting for it would hold up this process's writers, queued behind."""
    path = tmp_path / "app.db"
    db = Database(f"sqlite:///{path}")
    other_process = sqlite3.connect(path, isolation_level=None)
    checkpointer = sqlite3.connect(path, isolation_level=None)
    lock_holder = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        with db.session() as session:
            session.connection().execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        other_process.execute("BEGIN IMMEDIATE")

        assert db._checkpointer.checkpoint(checkpointer, lock_holder) is False

        other_process.execute("ROLLBACK")
        assert db._checkpointer.checkpoint(checkpointer, lock_holder) is True
    finally:
        for connection in (other_process, checkpointer, lock_holder):
            connection.close()
        db.dispose()
