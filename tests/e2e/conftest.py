"""The real stack in one process: the local Temporal dev server, a worker, and the API on a loopback port."""

from __future__ import annotations

import asyncio
import functools
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from temporalio.client import Client

from api.app import create_app
from config import Settings
from domain.reps import RepProfile
from tests.workflows.harness import ALL_WEEK
from workers.services import build_services
from workers.stack import bind_api_socket, observed_app
from workers.telemetry import Telemetry
from workers.temporal import make_worker, register_search_attributes

ADMIN_KEY = "wt_admin_e2e_test_key_0123456789abcdef"
UI_ORIGIN = "http://127.0.0.1:8233"  # a Temporal UI allowed to call the codec server
METRICS_TOKEN = "wt-metrics-scrape-token-0123456789abcdef"  # Prometheus's


class Stack:
    def __init__(self, client, tmp_path):
        # Listening from here on: no other server can take the port between choosing and serving it.
        self.sock = bind_api_socket("127.0.0.1", 0)
        self.settings = Settings(
            database_url=f"sqlite:///{tmp_path}/app.db",
            admin_key=ADMIN_KEY,
            metrics_token=METRICS_TOKEN,
            task_queue=f"e2e-{uuid.uuid4().hex[:8]}",
            api_port=self.sock.getsockname()[1],
            codec_origins=[UI_ORIGIN],
            callback_allow=["127.0.0.1"],  # the tests' webhook receivers listen on loopback
        )
        self.services = build_services(self.settings)
        self.client = client
        self.url = f"http://127.0.0.1:{self.settings.api_port}"

    @functools.cached_property
    def bot_key(self) -> str:
        """The key of the stack's bot, issued once: a bot key acts only on the transfers it started."""
        return self.services.keys.issue("bot", None, datetime.now(UTC))

    def http(self, key: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)

    def rep(self, rep_id: str, **profile) -> str:
        defaults = {"name": rep_id.title(), "team": "enterprise", "working_hours": ALL_WEEK}
        self.services.reps.upsert(RepProfile(id=rep_id, **{**defaults, **profile}), "available")
        return self.services.keys.issue("rep", rep_id, datetime.now(UTC))


@asynccontextmanager
async def serving(app, sock: socket.socket) -> AsyncIterator[uvicorn.Server]:
    """`app` served by uvicorn on `sock` (listening already) until the block ends."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    served = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        assert not served.done(), "the API did not start"
        await asyncio.sleep(0.05)
    try:
        yield server
    finally:
        server.should_exit = True
        await served


@asynccontextmanager
async def stack_on(client: Client, tmp_path: Path, adjust: Callable[[Stack], None] = lambda stack: None,
                   telemetry: Telemetry | None = None) -> AsyncIterator[Stack]:
    """The API on its port and a worker, on `client`'s Temporal; `adjust` may change the stack's settings and
    integrations before anything starts. With `telemetry` (the client's), the API is traced and exposes the SDK's
    metrics, as `api` does."""
    await register_search_attributes(client)
    stack = Stack(client, tmp_path)
    adjust(stack)
    if telemetry is None:
        stack.app = create_app(stack.settings, stack.services, client)
    else:
        stack.app = observed_app(stack.settings, stack.services, client, telemetry)
    with ThreadPoolExecutor(16) as executor:
        worker = make_worker(client, stack.settings.task_queue, stack.services.activities(stack.settings), executor)
        async with worker, serving(stack.app, stack.sock):
            yield stack
    stack.sock.close()
    stack.services.db.dispose()


@pytest.fixture
async def stack(local_env, tmp_path):
    async with stack_on(local_env.client, tmp_path) as running:
        yield running
