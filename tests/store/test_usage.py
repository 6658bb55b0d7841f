from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store.db import Database
from store.usage import UsageStore

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_usage_counts_once_and_reads_back_by_time(db: Database) -> None:
    usage = UsageStore(db)
    assert usage.record("t1", "sarah", "summary_seen", NOW)
    assert not usage.record("t1", "sarah", "summary_seen", NOW + timedelta(seconds=5))  # a second click
    assert usage.record("t1", "sarah", "transcript_expanded", NOW + timedelta(minutes=1))
    assert [u.item for u in usage.between()] == ["summary_seen", "transcript_expanded"]
    assert [u.item for u in usage.between(start=NOW + timedelta(seconds=30))] == ["transcript_expanded"]
    assert usage.between(end=NOW)[0:] == []
    assert usage.between()[0].at == NOW
