"""Recorded histories must replay on today's workflow code: a change that would break running transfers
fails here and belongs behind workflow.patched. Re-record with WT_RECORD_HISTORIES=1 only for new branches."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from workers.eviction import FreedOnEvictionRunner
from workers.temporal import DATA_CONVERTER
from workflows.transfer import TransferWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_histories_are_recorded():
    assert len(HISTORIES) >= 4, "the replay test needs recorded histories of several branches"


# Production runs transfers unsandboxed, freed on eviction (workers.temporal.make_worker); the sandbox also
# checks what replay runs.
RUNNERS = {"unsandboxed": FreedOnEvictionRunner, "sandboxed": SandboxedWorkflowRunner}


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path, runner: str):
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=[TransferWorkflow], data_converter=DATA_CONVERTER,
                        workflow_runner=RUNNERS[runner]())
    await replayer.replay_workflow(history)
