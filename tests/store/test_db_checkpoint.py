"""SQLite's write-ahead log is copied back into the database file by a thread of its own, not by commits."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text

from store.db import _BACKSTOP_CHECKPOINT_PAGES, Database


def test_commits_leave_the_checkpoint_to_the_database_s_own_thread(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    db = Database(f"sqlite:///{path}")
    try:
        with db.session() as session:
            connection = session.connection()
            # a commit checkpoints only past the backstop, far beyond what these writes reach
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == _BACKSTOP_CHECKPOINT_PAGES
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
