"""The baselines: plain Temporal workflows doing the least a transfer's steps could do on the same server."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import activity, workflow

from workflows import search


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


@dataclass
class StepShape:
    """What one step of a transfer asks of Temporal, with none of its work: the local activities it runs, whether
    it records a `workflow.patched` marker (the SDK also upserts TemporalChangeVersion for it), how many of our search
    attributes it upserts, whether its wait for the next step has a deadline (a timer), and the size of its answer."""

    local_activities: int = 0
    patch: str | None = None
    upserts: int = 0
    deadline: bool = False
    answer_bytes: int = 0


@dataclass
class Shape:
    """A whole transfer's steps (the first answer, then one per update) and whether the first answer starts an
    activity that the next step waits for, as a transfer's opening publish does."""

    steps: list[StepShape] = field(default_factory=list)
    opening_activity: bool = False


# A transfer's happy path as its history shows it on the dev server (tests/bench/test_floor.py compares them):
# start, proceed, accept, ack, replied, outcome, the rep's and the prospect's feedback.
TRANSFER_HAPPY_PATH = Shape(
    steps=[StepShape(1, "opening-publish-after-answer", 5, True, 1211), StepShape(2, None, 2, True, 1573),
           StepShape(1, None, 1, True, 1828), StepShape(1, None, 1, False, 1922),
           StepShape(1, None, 0, False, 2023), StepShape(1, "release-in-publish", 1, True, 2122),
           StepShape(1, None, 0, True, 2213), StepShape(1, None, 0, False, 2309)],
    opening_activity=True)


@activity.defn
def nothing(n: int) -> int:
    """A local activity that does nothing, run on a thread as a transfer's are."""
    return n


@workflow.defn
class TransferShapedWorkflow:
    """Takes the Temporal steps of a transfer of the given shape and does no work at any: the floor the design
    sets before any of the product's own work."""

    @workflow.init  # the shape is known to the first update, which update-with-start may run before `run`
    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.taken = 0
        self.opening: workflow.ActivityHandle | None = None

    @workflow.run
    async def run(self, shape: Shape) -> None:
        while self.taken < len(shape.steps):
            taken = self.taken
            deadline = timedelta(hours=1) if taken and shape.steps[taken - 1].deadline else None
            with contextlib.suppress(asyncio.TimeoutError):
                await workflow.wait_condition(lambda taken=taken: self.taken != taken, timeout=deadline)
        await workflow.wait_condition(workflow.all_handlers_finished)

    @workflow.update
    async def take(self) -> str:
        step = self.shape.steps[self.taken]
        self.taken += 1
        if self.opening is not None:
            await self.opening
            self.opening = None
        for n in range(step.local_activities):
            await workflow.execute_local_activity(nothing, n, start_to_close_timeout=timedelta(seconds=10))
        if step.patch is not None:
            workflow.patched(step.patch)
        if step.upserts:
            values = [search.STATUS.value_set(f"step-{self.taken}"), search.BRANCH.value_set("immediate"),
                      search.TEAM.value_set("bench"), search.REP.value_set("rep"), search.SCORE.value_set(50)]
            workflow.upsert_search_attributes(values[:step.upserts])
        if self.taken == 1 and self.shape.opening_activity:
            self.opening = workflow.start_activity(nothing, 0, start_to_close_timeout=timedelta(seconds=10))
        return "x" * step.answer_bytes
