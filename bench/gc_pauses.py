"""Garbage collection under load with a full workflow cache: how long each of `up`'s processes pauses to collect,
per generation, and per happy-path transfer.

    .venv/bin/python -m bench.gc_pauses [--open 1500] [--concurrency 4] [--seconds 120]

Starts `warm-transfer up` with every Python process logging its collections (bench/gc_watch), opens `--open`
transfers that stay queued behind a busy rep (more than the worker's cache of 1,000, so the cache is full and
stays full), then keeps `--concurrency` happy-path transfers in flight for `--seconds` (closed loop). The pauses
are counted from the collections' own timings, so the host's noise does not enter them the way it enters a
latency percentile. At the end, a census of the worker: the objects its collector tracks, and how many of them a
full collection finds to be garbage (cycles that reference counting could not free). Writes
bench/results/gc_pauses.json.
"""

from __future__ import annotations

import argparse
import json
import time

from bench.flows import HappyPaths
from bench.open_transfers import open_queued
from bench.stack import CpuMeter, running_stack, write_result
from bench.throughput import REPS, closed_loop, warm_up
from workers import event_loop

WAITING_TEAM = "waiting"


def per_transfer(pauses: dict[str, dict], transfers: int) -> dict[str, float]:
    """Milliseconds each process spent collecting per completed transfer, all generations together."""
    return {name: round(sum(gen["total_ms"] for gen in generations.values()) / max(transfers, 1), 2)
            for name, generations in pauses.items()}


async def main(open_count: int, concurrency: int, seconds: float) -> dict:
    async with running_stack(gc_log=True) as stack:
        await stack.add_team(REPS)
        await stack.add_rep("busy-rep", capacity=1, presence="busy")
        async with stack.http() as admin:
            assert (await admin.patch("/v1/reps/busy-rep", json={"team": WAITING_TEAM})).status_code == 200
        await open_queued(stack, open_count, 8, lambda opened: None, team=WAITING_TEAM)
        paths = HappyPaths(stack)
        try:
            await warm_up(seconds, paths.play)
            meter, began = CpuMeter(stack.pids()), time.monotonic()
            done, elapsed = await closed_loop(concurrency, seconds, paths.play)
            pauses, cpu = stack.gc_pauses(began), meter.per_run(done, "transfer")
        finally:
            await paths.close()
        worker_rss = stack.rss_mib()
        census = await stack.census("worker")
    result = {"open_transfers": open_count, "concurrency": concurrency, "seconds": seconds, "completed": done,
              "per_second": round(done / elapsed, 2), "worker_rss_mib": round(worker_rss, 1), **cpu,
              "gc_ms_per_transfer": per_transfer(pauses, done), "gc_pauses": pauses,
              "worker_census": {**{key: census[key] for key in ("young", "middle", "old", "frozen", "garbage",
                                                                 "survivors")},
                                "garbage_types": census["garbage_types"][:10],
                                "survivor_types": census["survivor_types"][:10]}}
    write_result("gc_pauses", result)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--open", type=int, default=1500, help="transfers left waiting first (default 1500)")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=120.0, help="how long the closed loop runs (default 120)")
    arguments = parser.parse_args()
    print(json.dumps(event_loop.run(main(arguments.open, arguments.concurrency, arguments.seconds)), indent=2))
