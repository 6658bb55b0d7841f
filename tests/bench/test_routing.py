"""The routing benchmark times every decision of the real CapacityStore on both databases, at a small scale."""

from __future__ import annotations

import json

import pytest

from bench import routing
from tests.conftest import postgres_admin

DECISIONS = {"rank", "list_team", "place_seat", "release_seat", "queue_place", "queue_release_head",
             "release_seated", "dispatch_after_presence"}


@pytest.mark.postgres
def test_routing_times_every_decision_on_sqlite_and_postgresql(tmp_path, monkeypatch):
    postgres_admin().close()
    monkeypatch.setattr(routing, "RESULTS", tmp_path)

    result = routing.main(["--reps", "100", "--queued", "20", "--rounds", "3", "--rank-rounds", "1"])

    for database in ("sqlite", "postgres"):
        timed = result["databases"][database]["ms"]
        assert set(timed) == DECISIONS  # with the fixed seed, every kind of decision comes up
        assert timed["place_seat"]["n"] == timed["queue_place"]["n"] == 3 and timed["rank"]["n"] == 1
        assert all(decision["p50"] <= decision["max"] for decision in timed.values())
    assert json.loads((tmp_path / "routing.json").read_text())["databases"] == result["databases"]
