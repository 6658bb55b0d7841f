"""Open transfers: many transfers waiting at once (queued), the worker's memory, and the bot's latency.

    .venv/bin/python -m bench.open_transfers [--count 10000]

Starts `warm-transfer up` with one busy rep in a team, so every transfer for that team queues and stays open,
and opens `--count` of them over HTTP (a start and the prospect's `proceed` each), with the default settings
(so the waiting transfers' safety-net rechecks run too). Measured: the resident memory of `up`'s worker
process (and of its API's) as they pile up, and `POST /v1/transfers` to the first bot line for another team,
idle and with all of them open. The loaded probes begin `--settle` seconds after the last one opened, so they
measure transfers waiting, not the burst that opened them; the cores `up` kept busy are recorded in 5-second
windows over that wait (they show whether the burst left work behind) and during each set of probes; where each
probe's time went (`start_phases`: the API and frontend, matching, the worker, the history service, the way
back); and the garbage collections of `up`'s processes (its Temporal server's too) while the transfers opened,
and of them and this load generator during the loaded probes, with the ones that overlapped each of the slowest
loaded probes.
Writes bench/results/open_transfers.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from bench.stack import (
    CpuMeter,
    Stack,
    own_collections,
    pause_summaries,
    phase_summary,
    phases_of_starts,
    running_stack,
    summary,
    transfer_id,
    write_result,
)
from workers import event_loop

WAITING_TEAM = "bench"
PROBE_TEAM = "probe"
SETTLE_WINDOW = 5.0  # seconds per reading of the cores busy during the wait after the burst


async def probe_latency(stack: Stack, count: int) -> tuple[dict, list[dict]]:
    """Sequential starts for the probe team, each ended at once: how long the bot waits for its first line, and
    the cores `up`'s processes kept busy meanwhile; and each measured probe: when it began (time.monotonic()),
    how long it took, and where that time went (`start_phases`)."""
    probes = []
    meter = CpuMeter(stack.pids())
    async with stack.http() as bot:
        for n in range(count):
            tid = transfer_id("probe")
            body = {"transfer_id": tid, "routing": {"team": PROBE_TEAM}, "context": {"prospect": {"name": f"P{n}"}}}
            at, sent, began = time.monotonic(), time.time(), time.perf_counter()
            response = await bot.post("/v1/transfers", json=body)
            probes.append({"at": at, "ms": (time.perf_counter() - began) * 1000,
                           "transfer_id": tid, "sent": sent, "answered": time.time()})
            assert response.status_code == 201, response.text
            await bot.post(f"/v1/transfers/{tid}/prospect", json={"action": "left"})
    cores = meter.cores()
    measured = probes[5:]
    for probe, phases in zip(measured, await phases_of_starts(await stack.temporal(), measured), strict=True):
        probe["phases"] = phases
    return ({**summary([probe["ms"] for probe in measured]),
             "cores_busy": {**cores, "all": round(sum(cores.values()), 2)},
             "phases": phase_summary([probe["phases"] for probe in measured])}, measured)


def overlapping(probe: dict, collections: dict[str, list[dict]]) -> list[dict]:
    """The garbage collections (of any process) that overlapped a probe."""
    ends = probe["at"] + probe["ms"] / 1000
    return [{"process": name, "gen": entry["gen"], "ms": round(entry["ms"], 1)}
            for name, entries in collections.items() for entry in entries
            if entry["at"] < ends and entry["at"] + entry["ms"] / 1000 > probe["at"]]


def slowest(probes: list[dict], collections: dict[str, list[dict]], count: int = 3) -> list[dict]:
    """The `count` slowest probes, each with where its time went and the garbage collections (of any process)
    that overlapped it."""
    return [{"ms": round(probe["ms"], 1), "phases": probe["phases"], "collections": overlapping(probe, collections)}
            for probe in sorted(probes, key=lambda probe: probe["ms"], reverse=True)[:count]]


def by_server_collections(probes: list[dict], server_collections: list[dict]) -> dict[str, dict]:
    """The probes that overlapped a collection of the Temporal server, against the others."""
    during, clear = [], []
    for probe in probes:
        (during if overlapping(probe, {"temporal": server_collections}) else clear).append(probe["ms"])
    return {"during_a_server_collection": summary(during), "clear_of_them": summary(clear)}


async def settle(stack: Stack, seconds: float) -> list[float]:
    """Wait `seconds`; the cores `up`'s processes kept busy in each window of the wait."""
    meter, readings = CpuMeter(stack.pids()), []
    deadline = time.perf_counter() + seconds
    while (left := deadline - time.perf_counter()) > 0:
        meter.restart()
        await asyncio.sleep(min(SETTLE_WINDOW, left))
        readings.append(round(sum(meter.cores().values()), 2))
    return readings


async def open_queued(stack: Stack, count: int, concurrency: int, on_progress,
                      team: str = WAITING_TEAM) -> float:
    """Open `count` transfers for `team`, all queued behind the team's one busy rep; returns how many per
    second were opened."""
    next_one = opened = 0
    began = time.perf_counter()
    async with stack.http() as bot:

        async def lane() -> None:
            nonlocal next_one, opened
            while next_one < count:
                n, next_one = next_one, next_one + 1
                tid = transfer_id("open")
                body = {"transfer_id": tid, "routing": {"team": team},
                        "context": {"prospect": {"name": f"Waiting {n}"}}}
                assert (await bot.post("/v1/transfers", json=body)).status_code == 201
                queued = await bot.post(f"/v1/transfers/{tid}/prospect", json={"action": "proceed"})
                assert queued.json()["status"] == "queued", queued.text
                opened += 1
                on_progress(opened)

        await asyncio.gather(*(lane() for _ in range(concurrency)))
    return count / (time.perf_counter() - began)


def memory_reading(stack: Stack, opened: int) -> dict:
    """The resident memory of `up`'s processes with `opened` transfers open: the worker's, the API's, and the
    Temporal server's (whose Go heap grows with them)."""
    return {"open": opened, "rss_mib": round(stack.rss_mib(), 1), "api_rss_mib": round(stack.rss_mib("api"), 1),
            "temporal_rss_mib": round(stack.rss_mib("temporal"), 1)}


async def main(count: int, concurrency: int, probes: int, settle_seconds: float = 60.0) -> dict:
    async with running_stack(gc_log=True) as stack:
        await stack.add_rep("busy-rep", capacity=1, presence="busy")
        await stack.add_rep("probe-rep", capacity=50)
        async with stack.http() as admin:
            assert (await admin.patch("/v1/reps/probe-rep", json={"team": PROBE_TEAM})).status_code == 200
        idle, _ = await probe_latency(stack, probes)
        idle_rss = stack.rss_mib()
        memory = [memory_reading(stack, 0)]
        step = max(count // 20, 1)

        def progress(opened: int) -> None:
            if opened % step == 0:
                memory.append(memory_reading(stack, opened))
                print(json.dumps(memory[-1]), flush=True)

        opening = time.monotonic()
        rate = await open_queued(stack, count, concurrency, progress)
        settling = time.monotonic()
        draining = await settle(stack, settle_seconds)
        probing = time.monotonic()
        with own_collections() as load_generators:
            loaded, loaded_probes = await probe_latency(stack, probes)
        loaded_rss = stack.rss_mib()
        during_probes = {**stack.collections(probing), "temporal": stack.go_collections(probing),
                         "load_generator": load_generators}
        while_opening = {**stack.collections(opening, settling), "temporal": stack.go_collections(opening, settling)}
        collections = {"while_opening": pause_summaries(while_opening),
                       "during_loaded_probes": pause_summaries(during_probes),
                       "slowest_loaded_probes": slowest(loaded_probes, during_probes),
                       "loaded_probes_by_server_collections": by_server_collections(loaded_probes,
                                                                                    during_probes["temporal"])}
    result = {"open_transfers": count, "opened_per_second": round(rate, 1), "idle_rss_mib": round(idle_rss, 1),
              "loaded_rss_mib": round(loaded_rss, 1), "memory": memory, "start_ms_idle": idle,
              "start_ms_with_open": loaded, "ratio_p50_open_to_idle": round(loaded["p50"] / idle["p50"], 2),
              "ratio_p99_open_to_idle": round(loaded["p99"] / idle["p99"], 2), "settle_seconds": settle_seconds,
              "cores_busy_while_settling": draining, "gc_pauses": collections}
    write_result("open_transfers", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--probes", type=int, default=505,
                        help="starts measured idle and loaded (5 warm-up); with 500, p99 is the 5th slowest")
    parser.add_argument("--settle", type=float, default=60.0,
                        help="seconds between the last transfer opened and the loaded probes (default 60)")
    arguments = parser.parse_args()
    print(json.dumps(event_loop.run(main(arguments.count, arguments.concurrency, arguments.probes,
                                                     arguments.settle)), indent=2))
