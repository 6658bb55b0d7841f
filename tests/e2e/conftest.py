"""The real stack in one process: the local Temporal dev server, a worker, and the API on a loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
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
from workers.stack import bind_api_socket
from workers.temporal import make_worker, register_search_attributes

ADMIN_KEY = "wt_admin_e2e"


class Stack:
    def __init__(self, client, tmp_path):
        # Listening from here on: no other server can take the port between choosing and serving it.
        self.sock = bind_api_socket("127.0.0.1", 0)
        self.settings = Settings(
            database_url=f"sqlite:///{tmp_path}/app.db",
            admin_key=ADMIN_KEY,
            task_queue=f"e2e-{uuid.uuid4().hex[:8]}",
            api_port=self.sock.getsockname()[1],
        )
        self.services = build_services(self.settings)
        self.client = client
        self.url = f"http://127.0.0.1:{self.settings.api_port}"

    def http(self, key: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)

    def rep(self, rep_id: str, **profile) -> str:
        defaults = {"name": rep_id.title(), "team": "enterprise", "working_hours": ALL_WEEK}
        self.services.reps.upsert(RepProfile(id=rep_id, **{**defaults, **profile}), "available")
        return self.services.keys.issue("rep", rep_id, datetime.now(UTC))


@contextlib.asynccontextmanager
async def serving(client: Client, tmp_path: Path,
                  adjust: Callable[[Stack], None] = lambda stack: None) -> AsyncIterator[Stack]:
    """The API on its port and a worker, on `client`'s Temporal; `adjust` may change the stack's settings and
    integrations before anything starts."""
    await register_search_attributes(client)
    stack = Stack(client, tmp_path)
    adjust(stack)
    app = stack.app = create_app(stack.settings, stack.services, client)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=stack.settings.api_port, log_level="warning"))
    with ThreadPoolExecutor(16) as executor:
        worker = make_worker(client, stack.settings.task_queue, stack.services.activities(stack.settings), executor)
        async with worker:
            api = asyncio.create_task(server.serve(sockets=[stack.sock]))
            while not server.started:
                assert not api.done(), "the API did not start"
                await asyncio.sleep(0.05)
            yield stack
            server.should_exit = True
            await api
    stack.sock.close()
    stack.services.db.dispose()


@pytest.fixture
async def stack(local_env, tmp_path):
    async with serving(local_env.client, tmp_path) as running:
        yield running
