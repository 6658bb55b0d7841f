"""bench.scale as `make test` runs it: two `warm-transfer api` and two `warm-transfer worker` processes started together
on an empty PostgreSQL database, 20 arrivals through every branch with one worker killed halfway. Everything
bench.scale checks must hold, every notice on both APIs' streams of its rep within 5 s (a stream not woken by
LISTEN/NOTIFY would wait up to its poll, 30 s), and within a second in a full run (WT_SCALE_TRANSFERS=100)."""

from __future__ import annotations

import os

import pytest

from bench import scale, stack
from store.schema import head
from tests.conftest import postgres_admin

TRANSFERS = int(os.environ.get("WT_SCALE_TRANSFERS", "20"))
FULL = TRANSFERS >= 100
WITHIN_MS = scale.ON_TIME_MS if FULL else 5_000


@pytest.mark.e2e
@pytest.mark.postgres
@pytest.mark.timeout(900 if FULL else 300)
async def test_two_apis_and_two_workers_on_postgres_run_every_branch_through_a_worker_kill(tmp_path, monkeypatch):
    postgres_admin().close()  # skips without the PostgreSQL server
    if not FULL:
        monkeypatch.setattr(stack, "RESULTS", tmp_path)
    result = await scale.main(transfers=TRANSFERS, rate=1.0 if FULL else 2.0,
                              settings={} if FULL else {"WT_ACK_TIMEOUT": "15"})

    assert scale.problems(result, WITHIN_MS) == []
    assert result["processes"]["came_up"] and result["processes"]["schema_revision"] == head()
    assert result["in_the_right_terminal_state"] == result["transfers"] > TRANSFERS  # and the holders of solo seats
    assert result["capacity_samples"] > 0 and result["rep_streams"]["streams_per_rep"] == scale.APIS
    assert result["webhooks"]["events"] > 0
