"""The least HTTP service in front of a plain workflow: what any product that takes a transfer's steps over HTTP
pays before any work of its own (bench.floor's `*_over_http` variants).

    .venv/bin/python -m bench.relay --port PORT --temporal HOST:PORT --task-queue QUEUE

It is served as `up` serves its API: FastAPI on uvicorn, on the same event loop, its socket bound and its heap
settled the same way, with the same Temporal client. Each request is one Temporal call and nothing else (no
keys, no store, no outbox): update-with-start for a flow's first answer, then one update per step. The
workflows' worker runs in the bench's process, beside the load generator.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from pydantic import BaseModel
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy

from bench.plain import TRANSFER_HAPPY_PATH, PlainWorkflow, TransferShapedWorkflow
from bench.stack import until_serving
from tests.conftest import free_ports
from workers import children, event_loop
from workers.stack import ApiServer, bind_api_socket, serve_until, stop_on_signals
from workers.temporal import TemporalConnection, data_converter


class Step(BaseModel):
    name: str
    last: bool = False  # a plain happy path ends with a signal after its last step, as bench.flows.happy_path's


class Answer(BaseModel):
    answer: str


def relay_app(client: Client, task_queue: str) -> FastAPI:
    """Two flows: `plain` (PlainWorkflow, a happy path's steps with nothing at any) and `shaped`
    (TransferShapedWorkflow taking a happy path's Temporal steps, with answers of the bot's view's size)."""
    app = FastAPI(title="bench relay")

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.post("/plain/{flow_id}")
    async def start_plain(flow_id: str) -> Answer:
        start = WithStartWorkflowOperation(PlainWorkflow.run, id=flow_id, task_queue=task_queue,
                                           id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
        return Answer(answer=await client.execute_update_with_start_workflow(
            PlainWorkflow.first_answer, start_workflow_operation=start))

    @app.post("/plain/{flow_id}/steps")
    async def plain_step(flow_id: str, step: Step) -> Answer:
        handle = client.get_workflow_handle_for(PlainWorkflow.run, flow_id)
        answer = await handle.execute_update(PlainWorkflow.step, step.name)
        if step.last:
            await handle.signal(PlainWorkflow.finish)
        return Answer(answer=answer)

    @app.post("/shaped/{flow_id}")
    async def start_shaped(flow_id: str) -> Answer:
        start = WithStartWorkflowOperation(TransferShapedWorkflow.run, TRANSFER_HAPPY_PATH, id=flow_id,
                                           task_queue=task_queue, id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
        return Answer(answer=await client.execute_update_with_start_workflow(
            TransferShapedWorkflow.take, start_workflow_operation=start))

    @app.post("/shaped/{flow_id}/steps")
    async def shaped_step(flow_id: str) -> Answer:
        handle = client.get_workflow_handle_for(TransferShapedWorkflow.run, flow_id)
        return Answer(answer=await handle.execute_update(TransferShapedWorkflow.take))

    return app


async def serve(port: int, temporal_address: str, task_queue: str) -> None:
    stop = stop_on_signals()
    sock = bind_api_socket("127.0.0.1", port)
    try:
        client = await TemporalConnection(temporal_address, "default", data_converter(None)).connect()  # in clear
        await serve_until(ApiServer(relay_app(client, task_queue), sock, "warning"), stop)
    finally:
        sock.close()


@dataclass
class Relay:
    url: str
    pid: int


@contextlib.asynccontextmanager
async def running_relay(temporal_address: str, task_queue: str) -> AsyncIterator[Relay]:
    """The relay in a process of its own on a free loopback port, stopped at the end (and with this process)."""
    (port,) = free_ports(1)
    with tempfile.NamedTemporaryFile(prefix="wt-bench-relay-", suffix=".log", delete=False) as log:
        log_path = Path(log.name)
        process = await children.spawn([sys.executable, "-m", "bench.relay", "--port", str(port),
                                        "--temporal", temporal_address, "--task-queue", task_queue],
                                       stdout=log, stderr=log)
    try:
        url = f"http://127.0.0.1:{port}"
        await until_serving(url, process, log_path, "bench.relay", timeout=30)
        yield Relay(url, process.pid)
    except BaseException:
        print(f"bench.relay's log is kept in {log_path}", file=sys.stderr)
        raise
    finally:
        await children.stop(process)
    log_path.unlink()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--temporal", required=True, help="the Temporal server's host:port")
    parser.add_argument("--task-queue", required=True, help="where the bench's worker takes the workflows")
    arguments = parser.parse_args()
    event_loop.run(serve(arguments.port, arguments.temporal, arguments.task_queue))
