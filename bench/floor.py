"""Temporal's floor for a transfer: what each element of the design costs, with none of the product's work.

    .venv/bin/python -m bench.floor [--rounds 4] [--seconds 15] [--concurrency 4]

A transfer asks more of Temporal than one update per step: local activities that make each step's effects
exactly-once, a timer for each deadline, search attributes for ops, patch markers for safe upgrades, the
opening publish as an activity, and the bot's view in every answer. `TransferShapedWorkflow` takes exactly a
happy path's such steps (`TRANSFER_HAPPY_PATH`, checked against a real transfer's history in each run) and does
nothing at any. This bench runs, in a closed loop and in turns (`--rounds`, so all meet the host at the same
speed): our happy path over HTTP, the shaped workflow, the shaped workflow with each element left out, a plain
happy path (one update per step, nothing else) and the one-activity workflow the throughput goal compares with.
Then the shaped workflow and the plain happy path again, each step taken over HTTP through `bench.relay` (the
least HTTP service, in a process of its own, as `up`'s API is): the floor of the design, and of any design, for
a product that bots and reps reach over HTTP, with the same load generator as ours.
Every plain workflow runs outside the SDK's sandbox, as transfers do, with its worker in this process (and its
client, or the load generator for the relayed ones). Writes bench/results/floor.json: each variant's rate and
CPU per workflow (medians over the rounds), what each element costs the server and the worker, and the rates
against the one-activity workflow.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from bench.flows import HappyPaths, RelayedPaths
from bench.plain import (
    TRANSFER_HAPPY_PATH,
    OneActivityWorkflow,
    PlainWorkflow,
    Shape,
    TransferShapedWorkflow,
    nothing,
    one_activity,
)
from bench.relay import running_relay
from bench.stack import CpuMeter, running_stack, write_result
from bench.throughput import closed_loop, one_activity_workflow, plain_happy_path
from workers import event_loop

REPS = 4
# What a transfer asks of Temporal besides its updates, and the shape without each.
ELEMENTS: dict[str, Callable[[Shape], Shape]] = {
    "local_activities": lambda shape: replace(shape, steps=[replace(s, local_activities=0) for s in shape.steps]),
    "search_attributes": lambda shape: replace(shape, steps=[replace(s, upserts=0) for s in shape.steps]),
    "patches": lambda shape: replace(shape, steps=[replace(s, patch=None) for s in shape.steps]),
    "timers": lambda shape: replace(shape, steps=[replace(s, deadline=False) for s in shape.steps]),
    "opening_activity": lambda shape: replace(shape, opening_activity=False),
    "answers": lambda shape: replace(shape, steps=[replace(s, answer_bytes=0) for s in shape.steps]),
}
# The events that show a transfer's elements in its history; the shape must have as many of each.
ELEMENT_EVENTS = ["MARKER_RECORDED", "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES", "TIMER_STARTED", "TIMER_CANCELED",
                  "ACTIVITY_TASK_SCHEDULED", "WORKFLOW_EXECUTION_UPDATE_COMPLETED"]


async def shaped(client: Client, queue: str, shape: Shape) -> None:
    handle = await client.start_workflow(TransferShapedWorkflow.run, shape, id=f"shaped-{uuid.uuid4().hex}",
                                         task_queue=queue, request_eager_start=True)
    for _ in shape.steps:
        await handle.execute_update(TransferShapedWorkflow.take)
    await handle.result()


def variants(client: Client, queue: str, paths: HappyPaths, relayed: RelayedPaths
             ) -> dict[str, Callable[[int], Awaitable]]:
    """Each variant as one closed-loop run: ours over HTTP, the rest plain workflows on the worker here, the last
    two over HTTP through the relay."""
    return {
        "ours": paths.play,
        "transfer_shaped": lambda _: shaped(client, queue, TRANSFER_HAPPY_PATH),
        **{f"without_{name}": (lambda _, shape=leave_out(TRANSFER_HAPPY_PATH): shaped(client, queue, shape))
           for name, leave_out in ELEMENTS.items()},
        "plain_happy_path": lambda n: plain_happy_path(client, queue, n),
        "one_activity": lambda n: one_activity_workflow(client, queue, n),
        "transfer_shaped_over_http": relayed.shaped,
        "plain_happy_path_over_http": relayed.plain,
    }


def total_cpu_ms(row: dict) -> float:
    """The CPU per workflow of every process measured in a run."""
    return round(sum(value for key, value in row.items() if key.endswith("_cpu_ms")), 1)


def medians(rows: list[dict]) -> dict:
    return {key: round(statistics.median(row[key] for row in rows), 2) for key in rows[0]}


def element_costs(measured: dict[str, dict]) -> dict[str, dict]:
    """What each element adds to the shaped workflow: server and worker CPU per workflow, and the rate it costs."""
    whole = measured["transfer_shaped"]
    costs = {}
    for name in ELEMENTS:
        without = measured[f"without_{name}"]
        costs[name] = {f"{part}_cpu_ms": round(whole[f"{part}_cpu_ms"] - without[f"{part}_cpu_ms"], 1)
                       for part in ("temporal", "worker_and_client")}
        costs[name]["rate_without_it"] = round(without["per_second"] / whole["per_second"], 3)
    return costs


async def element_counts(client: Client, workflow_type: str) -> dict[str, int]:
    """How many of each element event the history of the newest completed workflow of a type has."""
    query = f'WorkflowType="{workflow_type}" AND ExecutionStatus="Completed"'
    async for execution in client.list_workflows(query, limit=1):
        history = await client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        counted = Counter(EventType.Name(event.event_type).removeprefix("EVENT_TYPE_") for event in history.events)
        return {name: counted[name] for name in ELEMENT_EVENTS}
    raise RuntimeError(f"no completed {workflow_type} to compare")


async def in_turns(runs: dict[str, Callable[[int], Awaitable]], meters: dict[str, CpuMeter], plain_meter: CpuMeter,
                   rounds: int, seconds: float, concurrency: int) -> dict[str, list[dict]]:
    """Every variant for `seconds` in each round, one after another: rate and CPU per workflow of each run."""
    for one in runs.values():  # warm-up: every path once
        await closed_loop(1, 0.1, one)
    rows: dict[str, list[dict]] = {name: [] for name in runs}
    for round_ in range(rounds):
        for name, one in runs.items():
            meter = meters.get(name, plain_meter)
            meter.restart()
            done, elapsed = await closed_loop(concurrency, seconds, one)
            cpu = meter.per_run(done, "workflow")
            rows[name].append({"per_second": round(done / elapsed, 2),
                               **{key.removesuffix("_per_workflow"): value for key, value in cpu.items()}})
            print(json.dumps({"round": round_, name: rows[name][-1]}), flush=True)
    return rows


async def main(rounds: int, seconds: float, concurrency: int) -> dict:
    async with running_stack() as stack:
        await stack.add_team(REPS)
        client = await stack.temporal()
        queue = f"bench-floor-{uuid.uuid4().hex[:6]}"
        paths = HappyPaths(stack)
        ours_meter = CpuMeter({**stack.pids(), "load_generator": os.getpid()})
        plain_meter = CpuMeter({"worker_and_client": os.getpid(), "temporal": stack.pids()["temporal"]})
        executor = ThreadPoolExecutor(16)
        worker = Worker(client, task_queue=queue, activities=[nothing, one_activity],
                        workflows=[TransferShapedWorkflow, PlainWorkflow, OneActivityWorkflow],
                        activity_executor=executor, workflow_runner=UnsandboxedWorkflowRunner())
        async with worker, running_relay(stack.temporal_address, queue) as relay:
            relayed = RelayedPaths(relay.url)
            relay_meter = CpuMeter({"relay": relay.pid, "worker_and_client": os.getpid(),
                                    "temporal": stack.pids()["temporal"]})
            meters = {"ours": ours_meter, "transfer_shaped_over_http": relay_meter,
                      "plain_happy_path_over_http": relay_meter}
            try:
                rows = await in_turns(variants(client, queue, paths, relayed), meters, plain_meter, rounds, seconds,
                                      concurrency)
                shape_check = {"transfer": await element_counts(client, "TransferWorkflow"),
                               "transfer_shaped": await element_counts(client, "TransferShapedWorkflow")}
            finally:
                await paths.close()
                await relayed.close()
        executor.shutdown()
    measured = {name: medians(runs_of) for name, runs_of in rows.items()}

    def rate(name: str, against: str = "one_activity") -> float:
        return round(measured[name]["per_second"] / measured[against]["per_second"], 3)

    result = {
        "rounds": rounds, "seconds_per_run": seconds, "concurrency": concurrency,
        "runs": rows, "medians": measured, "element_costs": element_costs(measured), "shape_check": shape_check,
        "ratio_ours_to_one_activity": rate("ours"),
        "ratio_floor_to_one_activity": rate("transfer_shaped"),
        "ratio_plain_happy_path_to_one_activity": rate("plain_happy_path"),
        "ratio_floor_over_http_to_one_activity": rate("transfer_shaped_over_http"),
        "ratio_plain_happy_path_over_http_to_one_activity": rate("plain_happy_path_over_http"),
        "ratio_ours_to_floor": rate("ours", "transfer_shaped"),
        "ratio_ours_to_floor_over_http": rate("ours", "transfer_shaped_over_http"),
        "cpu_ms": {name: total_cpu_ms(measured[name]) for name in
                   ("ours", "transfer_shaped", "transfer_shaped_over_http", "plain_happy_path",
                    "plain_happy_path_over_http", "one_activity")},
    }
    result["cpu_ms"]["budget_for_a_third_of_one_activity"] = round(3 * result["cpu_ms"]["one_activity"], 1)
    write_result("floor", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4, help="turns every variant takes (default 4)")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long each variant runs per round")
    parser.add_argument("--concurrency", type=int, default=4, help="workflows in flight (default 4)")
    arguments = parser.parse_args()
    print(json.dumps(event_loop.run(main(arguments.rounds, arguments.seconds, arguments.concurrency)), indent=2))
