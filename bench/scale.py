"""Several processes on PostgreSQL, as on several hosts: two `warm-transfer api` and two `warm-transfer worker`
processes started at the same moment on an empty PostgreSQL database, one Temporal dev server, no shared wake-up
directory; then bench.chaos's branches with bots and reps calling either API at random.

    .venv/bin/python -m bench.scale [--transfers 100] [--rate 1] [--seed 22]

Checks that all four come up (both APIs serve, both workers poll the task queue: they migrated the empty database
together, one at a time); that every transfer ends in its branch's terminal state, nothing lost or doubled, no
rep above capacity (bench.chaos.check); that every notice to a rep reaches the rep's stream on both APIs, and how
long after the worker wrote it (the streams poll only every POLL_SECONDS, so one in time was woken by PostgreSQL's
LISTEN/NOTIFY); and that one worker SIGKILLed halfway through the arrivals changes none of that. Writes
bench/results/scale.json; exits 1 if anything did not hold.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from bench import chaos
from bench.flows import webhook_receiver
from bench.stack import (
    ADMIN_KEY,
    CONNECTIONS,
    WEBHOOK_SECRET,
    Api,
    http_client,
    steady,
    stop_up,
    summary,
    until_serving,
    write_result,
)
from tests.conftest import TEST_KEY_RING, free_ports, start_dev_server, throwaway_postgres
from workers import event_loop

APIS, WORKERS = 2, 2
POLL_SECONDS = 30  # the APIs' streams look for notices no wake-up told of this seldom: a notice sooner was woken
ON_TIME_MS = 1000  # the goal: every notice on every rep's stream within a second
KILL_AT = 0.5  # of the arrivals' span: when one worker is SIGKILLed
START_PATIENCE = 120  # seconds the four processes get to come up


class AnyApi(httpx.AsyncBaseTransport):
    """Sends each request to one of the APIs, chosen at random."""

    def __init__(self, urls: list[str], rng: random.Random):
        self.urls, self.rng = [httpx.URL(url) for url in urls], rng
        self.inner = httpx.AsyncHTTPTransport(limits=CONNECTIONS)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        api = self.rng.choice(self.urls)
        request.url = request.url.copy_with(scheme=api.scheme, host=api.host, port=api.port)
        request.headers["Host"] = api.netloc.decode()
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Cluster(Api):
    """The APIs of one deployment: every call goes to one of them at random."""

    api_urls: list[str] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)
    workers: list[asyncio.subprocess.Process] = field(default_factory=list)

    def http(self, key: str = ADMIN_KEY, timeout: float | None = 60) -> httpx.AsyncClient:
        return http_client(self.api_url, {"Authorization": f"Bearer {key}"}, timeout, AnyApi(self.api_urls, self.rng))


class RepStreams:
    """Each rep's console stream open on every API: when each notice (by outbox id) arrived on each (time.time())."""

    def __init__(self) -> None:
        self.arrived: dict[str, dict[int, float]] = {}  # per API URL
        self._tasks: list[asyncio.Task] = []

    async def open(self, api_urls: list[str], rep_keys: dict[str, str]) -> None:
        """Every stream, once each API has answered it."""
        self.arrived = {url: {} for url in api_urls}
        opened = []
        for url in api_urls:
            for key in rep_keys.values():
                ready = asyncio.Event()
                self._tasks.append(asyncio.create_task(self._read(url, key, ready)))
                opened.append(ready.wait())
        await asyncio.wait_for(asyncio.gather(*opened), 60)

    async def _read(self, url: str, key: str, ready: asyncio.Event) -> None:
        async with (http_client(url, {"Authorization": f"Bearer {key}"}, timeout=None) as rep,
                    rep.stream("GET", "/v1/reps/me/stream") as stream):
            stream.raise_for_status()
            ready.set()
            async for line in stream.aiter_lines():
                if line.startswith("id: "):
                    self.arrived[url][int(line.removeprefix("id: "))] = time.time()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def latencies(self, written: dict[int, float]) -> dict:
        """For the notices `written` (outbox id: when, time.time()): how long each took to each API's stream."""
        by_api = {url: [(self.arrived[url][row] - at) * 1000 for row, at in written.items() if row in self.arrived[url]]
                  for url in self.arrived}
        every = [ms for latencies in by_api.values() for ms in latencies]
        return {"notices": len(written), "streams_per_rep": len(by_api),
                "missing": {url: sorted(set(written) - set(self.arrived[url])) for url in by_api},
                "latency_ms": summary(every), "by_api": {url: summary(ms) for url, ms in by_api.items()},
                "later_than_1s": sum(ms > ON_TIME_MS for ms in every), "poll_seconds": POLL_SECONDS}


async def spawn(command: str, env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as output:
        return await asyncio.create_subprocess_exec(sys.executable, "-m", "workers.cli", "--log-level", "info", command,
                                                    stdin=asyncio.subprocess.DEVNULL, stdout=output, stderr=output,
                                                    env=env)


async def until_polling(client: Client, task_queue: str, workers: list[asyncio.subprocess.Process],
                        logs: list[Path]) -> None:
    """Until every worker process polls `task_queue` for workflow tasks (its identity is `<pid>@<host>`)."""
    deadline = time.monotonic() + START_PATIENCE
    request = DescribeTaskQueueRequest(namespace=client.namespace, task_queue=TaskQueue(name=task_queue),
                                       task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)
    while True:
        for worker, log in zip(workers, logs, strict=True):
            if worker.returncode is not None:
                raise RuntimeError(f"a worker exited: see {log}")
        polling = {poller.identity.split("@")[0] for poller in
                   (await client.workflow_service.describe_task_queue(request)).pollers}
        if {str(worker.pid) for worker in workers} <= polling:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the workers did not poll within {START_PATIENCE} s: see {logs}")
        await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def running_cluster(settings: dict[str, str], seed: int) -> AsyncIterator[tuple[Cluster, str, Path]]:
    """Two APIs and two workers started at once on an empty PostgreSQL database and a Temporal dev server; yields
    the cluster, the database's URL and the directory of their logs (kept if anything fails)."""
    logs = Path(tempfile.mkdtemp(prefix="wt-scale-"))
    env = await start_dev_server()
    processes: list[asyncio.subprocess.Process] = []
    try:
        with throwaway_postgres("wt_scale") as url:
            common = {**{name: value for name, value in os.environ.items() if not name.startswith("WT_")},
                      "WT_DATABASE_URL": url, "WT_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
                      "WT_TASK_QUEUE": f"scale-{seed}", "WT_ENCRYPTION_KEYS": TEST_KEY_RING,
                      "WT_WEBHOOK_SECRET": WEBHOOK_SECRET, "WT_ADMIN_KEY": ADMIN_KEY,
                      "WT_CALLBACK_ALLOW": "127.0.0.1", "WT_STREAM_POLL_SECONDS": str(POLL_SECONDS), **settings}
            ports = free_ports(APIS)
            api_logs = [logs / f"api-{n}.log" for n in range(APIS)]
            worker_logs = [logs / f"worker-{n}.log" for n in range(WORKERS)]
            processes = await asyncio.gather(  # at the same moment
                *(spawn("api", {**common, "WT_API_PORT": str(port)}, log)
                  for port, log in zip(ports, api_logs, strict=True)),
                *(spawn("worker", common, log) for log in worker_logs))
            apis, workers = processes[:APIS], processes[APIS:]
            urls = [f"http://127.0.0.1:{port}" for port in ports]
            await asyncio.gather(*(until_serving(url, api, log, "`warm-transfer api`", START_PATIENCE)
                                   for url, api, log in zip(urls, apis, api_logs, strict=True)))
            await until_polling(env.client, common["WT_TASK_QUEUE"], workers, worker_logs)
            yield Cluster(urls[0], api_urls=urls, rng=random.Random(seed), workers=workers), url, logs
    except BaseException:
        print(f"the processes' logs are kept in {logs}", file=sys.stderr)
        raise
    finally:
        await asyncio.gather(*(stop_up(process) for process in processes))
        await env.shutdown()


async def kill_one_worker(cluster: Cluster, after: float) -> float:
    """SIGKILL the last worker `after` seconds from now; returns when, on time.monotonic()."""
    await asyncio.sleep(after)
    cluster.workers[-1].kill()
    return time.monotonic()


async def main(transfers: int = 100, rate: float = 1.0, seed: int = 22, settings: dict[str, str] | None = None) -> dict:
    deliveries, faults, streams = chaos.Deliveries(), chaos.Faults(), RepStreams()
    receiver = await webhook_receiver(deliveries.on_event)
    webhook_url = f"http://127.0.0.1:{receiver.sockets[0].getsockname()[1]}/hooks"
    seconds = transfers / rate
    async with running_cluster({**chaos.SETTINGS, **(settings or {})}, seed) as (cluster, url, logs):
        async with cluster.http() as admin:
            issued = await admin.post("/v1/api-keys", json={"role": "bot"})
            assert issued.status_code == 201, issued.text
        await chaos.add_team(cluster, transfers)
        await streams.open(cluster.api_urls, cluster.rep_keys)
        bots = chaos.Bots(cluster, webhook_url, faults, bot_key=issued.json()["key"])
        branches = chaos.Branches(bots)
        done, samples = asyncio.Event(), []
        sampling = asyncio.create_task(chaos.sample_capacity(cluster, samples, done))
        began = time.monotonic()
        try:
            killed_at, _ = await asyncio.gather(kill_one_worker(cluster, KILL_AT * seconds),
                                                steady(rate, transfers, branches.play))
        finally:
            done.set()
            await sampling
        elapsed = time.monotonic() - began
        await asyncio.sleep(2)  # the last webhooks and stream events on their way
        views = {p.transfer_id: await chaos.final_view(bots, p.transfer_id) for p in branches.played}
        await streams.close()
        await bots.http.aclose()
        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as db:
            checked = chaos.check(lambda sql: db.execute(sql).fetchall(), branches.played, views, samples)
            written = {row: at.timestamp() for row, at in
                       db.execute("SELECT id, created_at FROM outbox WHERE rep_id IS NOT NULL").fetchall()}
            revision = db.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        logged = {log.stem: log.read_text(errors="replace") for log in logs.glob("*.log")}
    receiver.close()
    result = {
        "arrivals": transfers, "rate_per_second": rate, "seed": seed, "seconds": round(elapsed, 1),
        "processes": {"apis": APIS, "workers": WORKERS, "came_up": True, "schema_revision": revision,
                      "worker_killed_after_s": round(killed_at - began, 1),
                      "tracebacks": {name: text.count("Traceback") for name, text in logged.items()}},
        **checked,
        "rep_streams": streams.latencies(written),
        "webhooks": deliveries.summary(),
        "repeated_calls": faults.repeated_calls,  # after a 503 (the killed worker's transfers) or a connection error
        "connection_errors": faults.connection_errors,
        "503_ms_by_reason": {reason: summary(ms) for reason, ms in faults.unavailable_ms.items()},
    }
    write_result("scale", result)
    return result


def problems(result: dict, within_ms: float = ON_TIME_MS) -> list[str]:
    """What did not hold in a run of `main`, one line each (none: all did); stream notices must each have come
    within `within_ms`."""
    found = []
    streams = result["rep_streams"]
    checks = {
        "transfers not in their branch's terminal state": result["wrong"],
        "outcomes lost": result["outcomes_lost"], "feedback lost": result["feedback_lost"],
        "samples over capacity": result["over_capacity_samples"],
        "seats over capacity at the end": result["seats_over_capacity_at_end"],
        "active counts not matching seats": result["active_not_matching_seats"],
        "webhook events under two ids": result["webhooks"]["events_under_two_ids"],
        "tracebacks in the processes' logs": {name: n for name, n in result["processes"]["tracebacks"].items() if n},
        "notices missing from a rep's stream": {url: ids for url, ids in streams["missing"].items() if ids},
        f"notices later than {within_ms:.0f} ms": streams["latency_ms"].get("max", 0) > within_ms,
        "no notices to reps": streams["notices"] == 0,
        "not every branch played": set(result["by_branch"]) != set(chaos.BRANCHES),
    }
    for what, wrong in checks.items():
        if wrong:
            found.append(f"{what}: {wrong}")
    return found


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transfers", type=int, default=100, help="arrivals, each one branch (default 100)")
    parser.add_argument("--rate", type=float, default=1.0, help="arrivals per second (default 1)")
    parser.add_argument("--seed", type=int, default=22, help="which API each call goes to (default 22)")
    arguments = parser.parse_args()
    figures = event_loop.run(main(arguments.transfers, arguments.rate, arguments.seed))
    print(json.dumps({name: value for name, value in figures.items() if name != "wrong"}, indent=2))
    wrong = problems(figures)
    print("\n".join(wrong) if wrong else "Everything held.")
    sys.exit(1 if wrong else 0)
