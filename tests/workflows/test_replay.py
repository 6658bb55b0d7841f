"""Recorded histories must replay on today's workflow code: a change that would break running transfers
fails here and belongs behind workflow.patched. The watchdog's and the digest's runs are recorded too
(histories/schedules/, by tests/workflows/test_watchdog.py and test_digest.py).

After a change to the workflow, keep every recording and add one of every branch on the new code: point
tests.workflows.harness.RECORDING at a new folder, then `WT_RECORD_HISTORIES=1 .venv/bin/python -m pytest
tests/workflows/test_transfer.py`."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from tests.conftest import CONVERTER
from tests.workflows.harness import RECORDING, SCHEDULED
from workers.eviction import FreedOnEvictionRunner
from workers.temporal import WORKFLOWS

HISTORIES = sorted((Path(__file__).parent / "histories").rglob("*.json"))


BRANCHES = {"immediate", "offer_timeout", "decline_defer", "cancelled", "queued_deep", "queued_callback",
            "queued_email", "abandoned", "after_hours", "after_hours_chinese", "no_rep", "failed_recovery",
            "ack_timeout_recovery", "feedback_timeout", "integration_faults", "foreign_locale",
            "queued_passed_over", "offered_again_after_queue"}


def test_every_branch_is_recorded_on_the_current_code():
    assert {path.stem for path in RECORDING.glob("*.json")} == BRANCHES


def test_the_schedules_workflows_are_recorded():
    assert {path.stem for path in SCHEDULED.glob("*.json")} == {"watchdog", "digest"}


# Production runs transfers unsandboxed, freed on eviction (workers.temporal.make_worker); the sandbox also
# checks what replay runs.
RUNNERS = {"unsandboxed": FreedOnEvictionRunner, "sandboxed": SandboxedWorkflowRunner}


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("path", HISTORIES, ids=[p.parent.name + "/" + p.stem for p in HISTORIES])
async def test_history_replays(path: Path, runner: str):
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=WORKFLOWS, data_converter=CONVERTER,
                        workflow_runner=RUNNERS[runner]())
    await replayer.replay_workflow(history)
