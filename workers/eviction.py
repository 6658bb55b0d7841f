"""Transfers that leave the worker's cache are freed at once, not left for Python's cyclic garbage collector.

The SDK runs each workflow on an event loop of its own, an object full of references to itself (its handlers
bound to it, its tasks, their exceptions' tracebacks). When a transfer is evicted, or ends, that whole graph,
our state of the transfer included, is unreachable but cyclic: only a full collection frees it. With 10,000
transfers cycling through a cache of 1,000, 170-230 objects per evicted transfer piled up until full
collections of 1.3-1.7 s stalled every transfer on the worker (`git show ca8de1d:bench/README.md`, "Tenth pass").

Once the SDK has torn a run down (its tasks are finished, and it then drops the instance for good), emptying
the instance's attributes breaks those cycles, and reference counting frees the rest straight away.
"""

from __future__ import annotations

from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.converter import SerializationContext
from temporalio.worker import UnsandboxedWorkflowRunner, WorkflowInstance, WorkflowInstanceDetails
from temporalio.workflow import Info

PLAIN_VALUES = (bool, int, float, str, type(None))


class FreedOnEvictionRunner(UnsandboxedWorkflowRunner):
    """The SDK's unsandboxed runner, whose instances are freed as soon as they leave the cache."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return FreedOnEviction(super().create_instance(det))


class FreedOnEviction(WorkflowInstance):
    """A workflow instance that, once its eviction has been processed, lets go of everything it held."""

    def __init__(self, run: WorkflowInstance):
        self._run = run

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        completion = self._run.activate(act)
        # Only a clean tear-down: if eviction failed, tasks may still be running on the run's loop.
        if completion.HasField("successful") and any(job.HasField("remove_from_cache") for job in act.jobs):
            held = vars(self._run)
            # Plain values stay: the SDK's "deleting" flag keeps a future of this run that is destroyed later
            # quiet. Whatever holds references goes.
            for name in [name for name, value in held.items() if not isinstance(value, PLAIN_VALUES)]:
                del held[name]
        return completion

    def get_serialization_context(self, command_info) -> SerializationContext | None:  # SDK-internal type
        return self._run.get_serialization_context(command_info)

    def get_external_store_context(self, command_info):  # SDK-internal types
        return self._run.get_external_store_context(command_info)

    def get_info(self) -> Info:
        return self._run.get_info()

    def get_thread_id(self) -> int | None:
        return self._run.get_thread_id()
