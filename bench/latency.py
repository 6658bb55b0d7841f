"""Bot latency and rep-alert latency at a steady arrival rate, against plain Temporal on the same server.

    .venv/bin/python -m bench.latency [--rate 5] [--seconds 60] [--rounds 6] [--in-clear]

Starts `warm-transfer up` (its own process: dev server on SQLite, worker, API), then plays whole happy-path
transfers arriving at `--rate` per second, as a bot and reps would, over HTTP:
- the latency of `POST /v1/transfers` (to the bot's first line) and of every later bot and rep action; the
  prospect answers the first line `--reply-after` seconds later (default 0.7), the others follow at once;
- the rep's alert: from the bot's request that triggers the offer (`proceed`) to the offer arriving on the
  rep's server-sent event stream, and to the bot's webhook carrying the line that announces the rep;
- how busy the load keeps the machine: the cores each of `up`'s processes and this load generator kept busy,
  and their CPU per transfer.
Taking turns with ours (`--rounds` of each, so both meet the host at the same speed), on the same server and
at the same rate, a plain workflow with a worker in this process: started with eager start + an update and
with update-with-start, and one plain update per later step. The CPU figures count ours' turns only.
With `--in-clear`, a second `up` whose payloads to Temporal are not encrypted plays in turns too: what encryption
costs. Writes bench/results/latency.json (with `--in-clear`, latency_in_clear.json).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from bench.flows import (
    STEPS,
    Arrivals,
    HappyPaths,
    first_answer_with_start,
    happy_path,
    step_name,
    webhook_receiver,
)
from bench.plain import PlainWorkflow
from bench.stack import CpuMeter, Stack, running_stack, steady, summary, write_result
from workers import event_loop

REPS = 4
PLAIN_QUEUE = "bench-plain"
# Ours and the baseline take turns this many times, so that both are measured in the same stretches of the
# host's time: its speed drifts by tens of percent within minutes here.
ROUNDS = 6
# How long the prospect takes to answer the bot's first line before `proceed`: a person reads it and replies
# (in seconds, really; kept short, and off the arrival grid of 1-5 per second so that a `proceed` does not meet
# the next transfer's start every time).
REPLY_AFTER = 0.7


async def read_stream(stack: Stack, rep_key: str, arrivals: Arrivals) -> None:
    """The rep console's stream: each offer is marked as it arrives."""
    async with stack.http(rep_key, timeout=None) as rep, rep.stream("GET", "/v1/reps/me/stream") as stream:
        event = None
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "offer":
                arrivals.arrived(json.loads(line.removeprefix("data: "))["transfer_id"], "sse:offer")


async def plain(client: Client, rate: float, count: int, latencies: dict[str, list[float]]) -> None:
    """The same arrival rate on plain workflows: the fastest starts, then one plain update per step."""

    async def timed(name: str, call: Awaitable[Any]) -> Any:
        began = time.perf_counter()
        result = await call
        latencies[name].append((time.perf_counter() - began) * 1000)
        return result

    async def eager_then_update(n: int) -> None:
        await happy_path(client, PLAIN_QUEUE, timed)

    async def update_with_start(n: int) -> None:
        handle = await timed("update_with_start", first_answer_with_start(client, PLAIN_QUEUE))
        await handle.signal(PlainWorkflow.finish)

    await steady(rate, count, eager_then_update)
    await steady(rate, count, update_with_start)


def round_sizes(count: int, rounds: int) -> list[int]:
    """`count` arrivals split into at most `rounds` rounds as even as can be, none empty."""
    rounds = max(1, min(rounds, count))
    return [count // rounds + (1 if r < count % rounds else 0) for r in range(rounds)]


@contextlib.asynccontextmanager
async def ours(encrypted: bool, webhook_url: str, arrivals: Arrivals,
               reply_after: float) -> AsyncIterator[tuple[Stack, HappyPaths]]:
    """`up` with its demo team's reps watching their streams, and the bots that play transfers on it."""
    async with running_stack(settings=None if encrypted else {"WT_ALLOW_UNENCRYPTED": "true"}) as stack:
        await stack.add_team(REPS)
        paths = HappyPaths(stack, webhook_url, arrivals, reply_after)
        streams = [asyncio.create_task(read_stream(stack, key, arrivals)) for key in stack.rep_keys.values()]
        try:
            await asyncio.sleep(0.5)  # the streams are open
            yield stack, paths
        finally:
            for stream in streams:
                stream.cancel()
            await paths.close()


async def main(rate: float, seconds: float, rounds: int = ROUNDS, reply_after: float = REPLY_AFTER,
               in_clear: bool = False) -> dict:
    count = int(rate * seconds)
    arrivals = Arrivals()

    def on_event(_: dict[str, str], event: dict) -> None:
        if event["kind"] == "bot_line":
            arrivals.arrived(event["transfer_id"], f"webhook:{event['payload']['kind']}")

    receiver = await webhook_receiver(on_event)
    webhook_url = f"http://127.0.0.1:{receiver.sockets[0].getsockname()[1]}/hooks"
    warm_up: dict[str, list[float]] = defaultdict(list)
    plain_samples: dict[str, list[float]] = defaultdict(list)
    sizes = round_sizes(count, rounds)
    async with contextlib.AsyncExitStack() as running:
        stack, paths = await running.enter_async_context(ours(True, webhook_url, arrivals, reply_after))
        clear = await running.enter_async_context(ours(False, webhook_url, arrivals, reply_after)) if in_clear else None
        # Plain Temporal takes its turns on every server ours run on, alternately, so each server holds as much
        # besides ours: the in-clear figures then differ from ours by the encryption alone.
        clients = [await stack.temporal()] + ([await clear[0].temporal()] if clear is not None else [])
        async with contextlib.AsyncExitStack() as workers:
            for client in clients:
                await workers.enter_async_context(Worker(client, task_queue=PLAIN_QUEUE, workflows=[PlainWorkflow]))
            for _, warming in filter(None, [(stack, paths), clear]):
                await steady(rate, min(count, 10), warming.play)  # warm-up, not counted
                warming.latencies.clear()
            for client in clients:
                await plain(client, rate, min(count, 10), warm_up)
            # This process plays the bots and reps, and receives webhooks and streams: it shares the machine.
            meter = CpuMeter({**stack.pids(), "load_generator": os.getpid()})
            for turn, size in enumerate(sizes):
                await steady(rate, size, paths.play)
                with meter.paused():
                    if clear is not None:
                        await steady(rate, size, clear[1].play)
                    await plain(clients[turn % len(clients)], rate, size, plain_samples)
            cores, cpu = meter.cores(), meter.per_run(count, "transfer")
        rss = {part: round(stack.rss_mib(part), 1) for part in ("api", "worker")}
        store_check = stack.store_check()
    receiver.close()
    ours_samples = dict(paths.latencies)
    measured = {name: summary(values) for name, values in ours_samples.items()}
    baseline = {name: summary(values) for name, values in plain_samples.items()}
    fastest_start = min(baseline["eager_start_then_update"]["p50"], baseline["update_with_start"]["p50"])
    actions = [step_name(step) for _, _, step in STEPS]
    result = {
        "rate_per_second": rate, "transfers": count, "rounds": len(sizes), "reply_after_seconds": reply_after,
        "ours_ms": measured, "plain_ms": baseline,
        "ratio_start_p50_to_fastest_plain": round(measured["start"]["p50"] / fastest_start, 2),
        "ratio_action_p50_to_plain_update": {a: round(measured[a]["p50"] / baseline["update"]["p50"], 2)
                                             for a in actions},
        "rss_mib": rss, "store_check": store_check,
        "cores_busy": {**cores, "all": round(sum(cores.values()), 2), "of": os.cpu_count()},
        "cpu_ms": cpu,
        "samples_ms": {"ours": _rounded(ours_samples), "plain": _rounded(dict(plain_samples))},
    }
    if clear is not None:  # the same product with its payloads to Temporal in clear: what encryption costs
        in_clear_measured = {name: summary(values) for name, values in clear[1].latencies.items()}
        result["ours_in_clear_ms"] = in_clear_measured
        result["ratio_start_p50_in_clear_to_fastest_plain"] = round(in_clear_measured["start"]["p50"]
                                                                    / fastest_start, 2)
        result["samples_ms"]["ours_in_clear"] = _rounded(dict(clear[1].latencies))
    write_result("latency_in_clear" if in_clear else "latency", result)
    return result


def _rounded(samples: dict[str, list[float]]) -> dict[str, list[float]]:
    return {name: [round(value, 1) for value in values] for name, values in samples.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=5.0, help="transfers arriving per second (default 5)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long they keep arriving (default 60)")
    parser.add_argument("--rounds", type=int, default=ROUNDS,
                        help=f"turns ours and the baseline take, each at the rate (default {ROUNDS})")
    parser.add_argument("--reply-after", type=float, default=REPLY_AFTER,
                        help=f"seconds the prospect takes to answer the first line (default {REPLY_AFTER})")
    parser.add_argument("--in-clear", action="store_true",
                        help="also play ours with payloads to Temporal unencrypted, in turns: what encryption costs")
    arguments = parser.parse_args()
    figures = event_loop.run(main(arguments.rate, arguments.seconds, arguments.rounds, arguments.reply_after,
                                  arguments.in_clear))
    print(json.dumps({name: value for name, value in figures.items() if name != "samples_ms"}, indent=2))
