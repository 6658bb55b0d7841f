"""Why a new workflow's first answer waited ~40 ms, and what `config/temporal-dynamic-config.yaml` changes.

    .venv/bin/python -m bench.first_task [--count 200]

Starts a dev server with Temporal's defaults, then with each group of our settings alone (`history.*`: how often
new transfer tasks are read; `matching.*`: task queue partitions), then with the whole file, as `up` runs it. On
each, a plain workflow's first answer `--count` times one after another (a bot's request waits for the answer
before the next arrives), by update-with-start (how the API starts a transfer) and by eager start + update (which
skips the transfer queue and matching, but needs the worker in the caller's process). Writes
bench/results/first_task.json.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Awaitable, Callable

import yaml
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from bench.flows import eager_first_answer, first_answer_with_start
from bench.plain import PlainWorkflow
from bench.stack import summary, write_result
from tests.conftest import start_dev_server
from workers import event_loop
from workers.devserver import DYNAMIC_CONFIG

QUEUE = "bench-first-task"
LATENCY_GROUPS = ("history", "matching")  # the settings of ours that bear on a first answer
WAYS: dict[str, Callable[[Client, str], Awaitable[WorkflowHandle]]] = {
    "update_with_start": first_answer_with_start,
    "eager_start_then_update": eager_first_answer,
}


def configurations() -> dict[str, list[str]]:
    """Dev server flags per configuration: Temporal's defaults, each group of our latency settings alone, all of
    ours (the others, such as the watchdog's `system.*`, only there)."""
    ours = yaml.safe_load(DYNAMIC_CONFIG.read_text())
    groups: dict[str, list[str]] = {}
    everything: list[str] = []
    for key, [setting] in ours.items():
        flags = ["--dynamic-config-value", f"{key}={setting['value']}"]
        if key.split(".")[0] in LATENCY_GROUPS:
            groups.setdefault(f"only {key.split('.')[0]}.*", []).extend(flags)
        everything += flags
    return {"temporal defaults": [], **groups, "ours (up)": everything}


async def measure(flags: list[str], count: int) -> dict[str, dict]:
    env = await start_dev_server(flags)
    try:
        async with Worker(env.client, task_queue=QUEUE, workflows=[PlainWorkflow]):
            figures = {}
            for way, first_answer in WAYS.items():
                latencies = []
                for _ in range(count + min(count, 10)):  # the first ten warm up and are not counted
                    began = time.perf_counter()
                    handle = await first_answer(env.client, QUEUE)
                    latencies.append((time.perf_counter() - began) * 1000)
                    await handle.signal(PlainWorkflow.finish)
                figures[way] = summary(latencies[min(count, 10):])
            return figures
    finally:
        await env.shutdown()


async def main(count: int) -> dict:
    measured = {}
    for name, flags in configurations().items():
        measured[name] = {"flags": flags, **await measure(flags, count)}
    result = {"count": count, "configurations": measured}
    write_result("first_task", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200, help="first answers per way and configuration")
    figures = event_loop.run(main(parser.parse_args().count))
    for name, row in figures["configurations"].items():
        print(f"{name:22s}", "  ".join(f"{way} p50 {row[way]['p50']} p90 {row[way]['p90']} p99 {row[way]['p99']}"
                                       for way in WAYS))
