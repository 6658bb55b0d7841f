"""Transfers leaving the worker's cache are freed by reference counting, and come back intact when touched."""

from __future__ import annotations

import gc

from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion

from tests.workflows.harness import Harness
from workers.eviction import FreedOnEviction
from workflows.transfer import TransferWorkflow

CACHE = 10


def transfers_in_memory() -> int:
    return sum(isinstance(thing, TransferWorkflow) for thing in gc.get_objects())


async def test_evicted_transfers_are_freed_without_the_cyclic_collector(local_env, tmp_path):
    gc.collect()
    before = transfers_in_memory()
    gc.disable()  # from here on only reference counting frees anything
    try:
        async with Harness(local_env.client, tmp_path, sandboxed=False, workflow_cache=CACHE) as harness:
            harness.rep("ana", presence="busy")
            handles = [(await harness.start_ready())[0] for _ in range(3 * CACHE)]
            for handle in handles:
                await harness.prospect(handle, "proceed")
            # The cache keeps at most CACHE transfers; the other 2 x CACHE were evicted and must be gone.
            assert transfers_in_memory() - before <= CACHE
            # An evicted transfer is rebuilt from its history when it is touched again.
            first = await harness.prospect(handles[0], "left")
            assert first.status == "abandoned"
            assert (await harness.view(handles[1])).status == "queued"
    finally:
        gc.enable()


class _Run:
    """Stands in for the SDK's workflow run: returns the completion it is given."""

    def __init__(self, completion: WorkflowActivationCompletion):
        self.completion = completion
        self.deleting = True

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        return self.completion


def eviction() -> WorkflowActivation:
    act = WorkflowActivation(run_id="run-1")
    act.jobs.add().remove_from_cache.message = "cache full"
    return act


def test_only_a_clean_eviction_empties_the_run():
    failed = WorkflowActivationCompletion(run_id="run-1")
    failed.failed.failure.message = "Eviction processed, but 1 tasks remain"
    run = _Run(failed)
    FreedOnEviction(run).activate(eviction())
    assert vars(run), "a failed eviction may leave tasks on the run's loop: its state stays"

    succeeded = WorkflowActivationCompletion(run_id="run-1")
    succeeded.successful.SetInParent()
    run = _Run(succeeded)
    assert FreedOnEviction(run).activate(WorkflowActivation(run_id="run-1")) is succeeded
    assert vars(run), "an activation that is not an eviction leaves the run as it was"
    assert FreedOnEviction(run).activate(eviction()) is succeeded
    # What holds references goes; plain values stay (a future of the run destroyed later still reads the SDK's
    # "deleting" flag).
    assert vars(run) == {"deleting": True}
