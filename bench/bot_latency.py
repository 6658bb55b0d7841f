"""POST /v1/transfers latency (to the bot's first line) and history size of a happy-path transfer.

Runs the real stack in one process (Temporal dev server, worker, API over HTTP on loopback):
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
from pathlib import Path

import httpx
import uvicorn
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from config import Settings
from domain.reps import WEEKDAYS, RepProfile
from tests.conftest import BIN, free_port
from workers.services import build_services
from workers.temporal import make_worker, register_search_attributes

RESULTS = Path(__file__).parent / "results"


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


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
    latencies: list[float] = []
    with ThreadPoolExecutor(16) as executor:
        async with make_worker(env.client, settings.task_queue, services.activities(settings), executor):
            serving = asyncio.create_task(server.serve())
            while not server.started:
                await asyncio.sleep(0.05)
            headers = {"Authorization": "Bearer bench-admin"}
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.api_port}", headers=headers) as http:
                for n in range(count):
                    body = {"transfer_id": f"bench_{n}", "context": {"prospect": {"name": f"P{n}"}},
                            "routing": {"team": "enterprise"}}
                    started = time.perf_counter()
                    response = await http.post("/v1/transfers", json=body)
                    latencies.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 201, response.text
                    await http.post(f"/v1/transfers/bench_{n}/prospect", json={"action": "left"})
            server.should_exit = True
            await serving
            history = await env.client.get_workflow_handle("bench_0").fetch_history()
    await env.shutdown()
    warm = latencies[5:]
    result = {"count": count, "post_transfers_ms": {"p50": round(statistics.median(warm), 1),
                                                    "p99": round(_quantile(warm, 0.99), 1)},
              "history_events_prepare_then_left": len(history.events),
              "machine": {"python": platform.python_version(), "cpus": os.cpu_count()}}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bot_latency.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    print(json.dumps(asyncio.run(main(parser.parse_args().count)), indent=2))
