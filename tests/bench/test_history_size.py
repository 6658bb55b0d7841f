"""The history-size benchmark counts every event of a transfer's history once, in one class."""

from __future__ import annotations

from bench.history_size import CATEGORIES, category, measure


def test_event_types_fall_into_their_classes():
    assert category("WORKFLOW_TASK_COMPLETED") == "workflow_tasks"
    assert category("MARKER_RECORDED") == "markers"
    assert category("TIMER_FIRED") == "timers"
    assert category("WORKFLOW_EXECUTION_UPDATE_ACCEPTED") == "updates"
    assert category("WORKFLOW_EXECUTION_SIGNALED") == "signals"
    assert category("WORKFLOW_EXECUTION_STARTED") == "other"


async def test_the_happy_path_history_is_counted_consistently():
    run = await measure("happy_path")

    assert run["workflow_status"] == "completed" and run["transfer_status"] == "completed"
    assert run["last_event"] == "WORKFLOW_EXECUTION_COMPLETED"
    by_class, units = run["events_by_class"], run["units"]
    assert set(by_class) == set(CATEGORIES)
    assert sum(by_class.values()) == run["events"] == sum(run["events_by_type"].values())
    assert run["bytes"] > 0 and sum(run["bytes_by_class"].values()) == run["bytes"]
    assert run["bytes"] <= run["history_message_bytes"]  # the whole message adds only framing
    # What the driver did shows up in its class: 8 updates (ready, note, accept, ack, reply, outcome,
    # two feedbacks), each accepted and completed; every workflow task a scheduled/started/completed triple;
    # one marker per local activity or patch.
    assert units["updates_completed"] == units["updates_accepted"] == 8 and by_class["updates"] == 16
    assert units["workflow_tasks"] >= 1 and by_class["workflow_tasks"] == 3 * units["workflow_tasks"]
    assert by_class["markers"] == units["local_activities"] + units["patches"]
    assert units["local_activities"] == sum(run["local_activities"].values()) and "?" not in run["local_activities"]
    # The outcome's release rides in its publish, behind the release-in-publish patch; the first publish is an
    # activity after the first answer (scheduled, started, completed), behind its own.
    assert set(run["local_activities"]) == {"plan", "publish", "place"}
    assert run["patches"] == {"release-in-publish": 1, "opening-publish-after-answer": 1}
    assert by_class["timers"] == 2 * units["timers_started"]
    assert by_class["activity_tasks"] == 3 and by_class["signals"] == 0
    # Started and completed, and the TemporalChangeVersion search attribute the SDK upserts for each patch.
    assert by_class["other"] == 2 + units["patches"]
