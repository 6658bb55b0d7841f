"""Helpers shared by the store tests (fixtures live in conftest.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import func
from sqlmodel import select

from domain.reps import WEEKDAYS, RepProfile
from store.db import Database
from store.tables import SeatRow

T = TypeVar("T")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ALL_WEEK = {day: [("00:00", "24:00")] for day in WEEKDAYS}


def profile(rep_id: str, **fields) -> RepProfile:
    """A rep who works around the clock, so tests do not depend on the weekday or hour."""
    return RepProfile(id=rep_id, name=rep_id.title(), working_hours=ALL_WEEK, **fields)


def seats_per_rep(db: Database) -> dict[str, int]:
    with db.session() as session:
        return dict(session.exec(select(SeatRow.rep_id, func.count()).group_by(SeatRow.rep_id)).all())


def run_at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Run every call on its own thread, all released together by a barrier; errors are re-raised."""
    barrier = threading.Barrier(len(calls), timeout=30)

    def lined_up(call: Callable[[], T]) -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(lined_up, call) for call in calls]
        return [future.result() for future in futures]
