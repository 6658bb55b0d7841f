"""bench.chaos briefly, as `make test` runs every benchmark: each branch once against a real `warm-transfer up` while
its worker, its dev server and `up` itself go down. Everything it checks must hold; speed is never asserted."""

from __future__ import annotations

import json

import pytest

from bench import chaos, stack


@pytest.mark.e2e
@pytest.mark.timeout(240)
async def test_every_branch_ends_where_it_should_through_every_fault(tmp_path, monkeypatch):
    monkeypatch.setattr(stack, "RESULTS", tmp_path)
    result = await chaos.main(transfers=len(chaos.BRANCHES), rate=4, settings={"WT_ACK_TIMEOUT": "15"})

    assert result["wrong"] == []
    assert result["in_the_right_terminal_state"] == result["transfers"] == len(chaos.BRANCHES) + 2  # 2 holders
    assert set(result["by_branch"]) == set(chaos.BRANCHES)
    faults = result["faults"]
    assert faults["worker_kills"] >= 1 and faults["devserver_kills"] == 1 and faults["up_restarts"] == 1
    assert faults["admin_changes_kept"] is True  # up seeds only the demo reps who are missing
    assert result["outcomes_acknowledged"] == 5 and result["outcomes_lost"] == []  # 3 branches and 2 holders
    assert result["feedback_acknowledged"] == 10 and result["feedback_lost"] == []
    assert result["capacity_samples"] > 0 and result["over_capacity_samples"] == []
    assert result["seats_over_capacity_at_end"] == {} and result["active_not_matching_seats"] == {}
    assert result["webhooks"]["events"] > 0 and result["webhooks"]["events_under_two_ids"] == 0
    assert result["tracebacks_in_up_log"] == 0 and result["store_check"] == "ok"
    assert json.loads((tmp_path / "chaos.json").read_text())["transfers"] == result["transfers"]
