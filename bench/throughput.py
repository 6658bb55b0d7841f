"""Throughput: completed happy-path transfers per second on one machine, against a one-activity plain workflow.

    .venv/bin/python -m bench.throughput [--concurrency 1 2 4 8] [--seconds 20]

Starts `warm-transfer up` (dev server on SQLite, the API, the worker in a process of its own), then for each
level of concurrency keeps that many happy-path transfers in flight over HTTP (closed loop: each one starts the
next when it completes) and counts completions per second, with the CPU that `up`'s API and worker, the Temporal
server and this load generator spent per transfer. Then, on the same server, the same levels of concurrency
for two plain workflows (worker in this process): one that runs one activity (the goal's baseline), and one
that takes a transfer's happy path with nothing to do at each step (eager start and a first answer, then one
update per step: what Temporal itself costs for a transfer's interactions). Writes
bench/results/throughput.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import uuid
from collections.abc import Awaitable, Callable

from temporalio.client import Client
from temporalio.worker import Worker

from bench.flows import HappyPaths, happy_path
from bench.plain import OneActivityWorkflow, PlainWorkflow, one_activity
from bench.stack import CpuMeter, Stack, running_stack, write_result
from workers import event_loop

REPS = 4
WARM_UP_SECONDS = 5.0


async def closed_loop(concurrency: int, seconds: float, one: Callable[[int], Awaitable[None]]) -> tuple[int, float]:
    """`concurrency` loops each running `one` back to back until `seconds` pass; (completed, elapsed)."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def loop(lane: int) -> None:
        nonlocal done
        n = 0
        while time.perf_counter() < deadline:
            await one(lane * 1_000_000 + n)
            done += 1
            n += 1

    began = time.perf_counter()
    await asyncio.gather(*(loop(lane) for lane in range(concurrency)))
    return done, time.perf_counter() - began


async def warm_up(seconds: float, one: Callable[[int], Awaitable[None]]) -> None:
    """Two in flight, not counted, for as long as a measured run but at most `WARM_UP_SECONDS`."""
    await closed_loop(2, min(seconds, WARM_UP_SECONDS), one)


async def ours(stack: Stack, levels: list[int], seconds: float) -> list[dict]:
    paths = HappyPaths(stack)
    # The load generator (this process: the bots' and reps' HTTP clients) shares the machine, so its CPU counts.
    meter = CpuMeter({**stack.pids(), "load_generator": os.getpid()})
    rows = []
    try:
        await warm_up(seconds, paths.play)
        for level in levels:
            meter.restart()
            done, elapsed = await closed_loop(level, seconds, paths.play)
            rows.append({"concurrency": level, "completed": done, "per_second": round(done / elapsed, 2),
                         **meter.per_run(done, "transfer")})
            print(json.dumps(rows[-1]), flush=True)
    finally:
        await paths.close()
    return rows


async def plain(stack: Stack, levels: list[int], seconds: float, name: str, worker: dict,
                one: Callable[[Client, str, int], Awaitable[None]]) -> list[dict]:
    """A plain workflow at the same levels on the same server, its worker and client in this process."""
    client = await stack.temporal()
    queue = f"bench-{name}-{uuid.uuid4().hex[:6]}"
    meter = CpuMeter({"worker_and_client": os.getpid(), "temporal": stack.pids()["temporal"]})
    rows = []
    async with Worker(client, task_queue=queue, **worker):
        await warm_up(seconds, lambda n: one(client, queue, n))
        for level in levels:
            meter.restart()
            done, elapsed = await closed_loop(level, seconds, lambda n: one(client, queue, n))
            rows.append({"concurrency": level, "completed": done, "per_second": round(done / elapsed, 2),
                         **meter.per_run(done, "workflow")})
            print(json.dumps({name: rows[-1]}), flush=True)
    return rows


async def one_activity_workflow(client: Client, queue: str, n: int) -> None:
    await client.execute_workflow(OneActivityWorkflow.run, n, id=f"one-{uuid.uuid4().hex}", task_queue=queue)


async def plain_happy_path(client: Client, queue: str, n: int) -> None:
    await happy_path(client, queue)


def cpu_at_best(ours: dict, one_activity: dict, plain_happy_path: dict) -> dict:
    """The machine's CPU per completed run, each at its best level. Where the load saturates the machine, a third
    of the one-activity rate allows three times its CPU per transfer: the budget the goal sets."""
    ours_total = sum(value for key, value in ours.items() if key.endswith("_cpu_ms_per_transfer"))
    one, plain = (sum(value for key, value in row.items() if key.endswith("_per_workflow"))
                  for row in (one_activity, plain_happy_path))
    return {"ours": round(ours_total, 1), "one_activity": round(one, 1),
            "budget_for_a_third_of_one_activity": round(3 * one, 1), "plain_happy_path": round(plain, 1),
            "plain_happy_path_and_our_load_generator": round(plain + ours["load_generator_cpu_ms_per_transfer"], 1)}


async def main(levels: list[int], seconds: float) -> dict:
    async with running_stack() as stack:
        await stack.add_team(REPS)
        measured = await ours(stack, levels, seconds)
        baseline = await plain(stack, levels, seconds, "one_activity",
                               {"workflows": [OneActivityWorkflow], "activities": [one_activity]},
                               one_activity_workflow)
        floor = await plain(stack, levels, seconds, "plain_happy_path", {"workflows": [PlainWorkflow]},
                            plain_happy_path)
    best_ours, best_plain, best_floor = (max(rows, key=lambda row: row["per_second"])
                                         for rows in (measured, baseline, floor))
    result = {"seconds_per_level": seconds, "happy_path_transfers": measured, "one_activity_workflows": baseline,
              "plain_happy_paths": floor,
              "best_transfers_per_second": best_ours["per_second"], "best_plain_per_second": best_plain["per_second"],
              "best_plain_happy_paths_per_second": best_floor["per_second"],
              "ratio_best_to_plain_best": round(best_ours["per_second"] / best_plain["per_second"], 3),
              "ratio_plain_happy_path_to_plain_best": round(best_floor["per_second"] / best_plain["per_second"], 3),
              "ratio_best_to_plain_happy_path": round(best_ours["per_second"] / best_floor["per_second"], 3),
              "cpu_ms_at_best": cpu_at_best(best_ours, best_plain, best_floor)}
    write_result("throughput", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4, 8],
                        help="the levels of transfers in flight (default 1 2 4 8)")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long each level runs (default 20)")
    arguments = parser.parse_args()
    print(json.dumps(event_loop.run(main(arguments.concurrency, arguments.seconds)), indent=2))
