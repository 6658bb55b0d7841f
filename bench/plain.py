"""The baseline: a plain Temporal workflow whose first answer comes from an update, nothing else."""

from __future__ import annotations

from temporalio import workflow


@workflow.defn
class PlainWorkflow:
    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)

    @workflow.update
    async def first_answer(self) -> str:
        return "hello"

    @workflow.signal
    def finish(self) -> None:
        self.done = True
