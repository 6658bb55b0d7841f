"""The baselines: plain Temporal workflows doing the least a transfer's steps could do on the same server."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@workflow.defn
class PlainWorkflow:
    """Answers its first update and then one update per step, like a transfer's bot and rep actions."""

    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)

    @workflow.update
    async def first_answer(self) -> str:
        return "hello"

    @workflow.update
    async def step(self, name: str) -> str:
        return name

    @workflow.signal
    def finish(self) -> None:
        self.done = True


@activity.defn
async def one_activity(n: int) -> int:
    return n + 1


@workflow.defn
class OneActivityWorkflow:
    """The throughput baseline: start, one activity, complete."""

    @workflow.run
    async def run(self, n: int) -> int:
        return await workflow.execute_activity(one_activity, n, start_to_close_timeout=timedelta(seconds=30))
