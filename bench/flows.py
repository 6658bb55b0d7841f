"""A happy-path transfer played over HTTP as a bot and its reps would play it, every call timed."""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from bench.plain import TRANSFER_HAPPY_PATH, PlainWorkflow
from bench.stack import TEAM, Stack, http_client, transfer_id

Timed = Callable[[str, Awaitable[Any]], Awaitable[Any]]

# A happy path's steps after the start, in order: who acts, the path under /v1/transfers/{id}/, the body.
STEPS = [
    ("bot", "prospect", {"action": "proceed"}),
    ("rep", "rep", {"action": "accept"}),
    ("rep", "rep", {"action": "ack"}),
    ("bot", "prospect", {"action": "replied"}),
    ("rep", "rep", {"action": "outcome", "outcome": "demo_booked"}),
    ("rep", "feedback", {"from": "rep", "context_helpful": True, "prospect_repeated": False}),
    ("bot", "feedback", {"from": "prospect", "csat": 5}),
]


def step_name(body: dict) -> str:
    return body.get("action") or f"feedback_{body['from']}"


async def webhook_receiver(on_event: Callable[[dict[str, str], dict], None]) -> asyncio.Server:
    """A bot's webhook endpoint on loopback: one POST per connection or kept alive, answered 200 at once;
    `on_event(headers, event)` for each, header names in lower case."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                fields = (line.decode().partition(": ") for line in head.split(b"\r\n")[1:] if line)
                headers = {name.lower(): value for name, _, value in fields}
                on_event(headers, json.loads(await reader.readexactly(int(headers["content-length"]))))
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


class Arrivals:
    """When each (transfer, event) was first seen by this process: alerts read off streams and webhooks."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], asyncio.Future] = defaultdict(asyncio.get_running_loop().create_future)

    def arrived(self, transfer: str, event: str) -> None:
        future = self.seen[(transfer, event)]
        if not future.done():
            future.set_result(time.perf_counter())

    async def when(self, transfer: str, event: str, timeout: float = 60) -> float:
        return await asyncio.wait_for(asyncio.shield(self.seen[(transfer, event)]), timeout)


class HappyPaths:
    """Happy paths played back to back, or with the prospect taking `reply_after` seconds to answer the bot's
    first line (the seed's "anything else I should let them know?") before `proceed`."""

    def __init__(self, stack: Stack, webhook_url: str | None = None, arrivals: Arrivals | None = None,
                 reply_after: float = 0.0):
        self.reply_after = reply_after
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.bot = stack.http()
        self.reps = {rep_id: stack.http(key) for rep_id, key in stack.rep_keys.items()}
        self.webhook_url = webhook_url
        self.arrivals = arrivals
        self.completed = 0

    async def play(self, n: int) -> None:
        tid = transfer_id("wt")
        body = {"transfer_id": tid, "routing": {"team": TEAM},
                "context": {"prospect": {"name": f"Prospect {n}", "company": "Bench Inc"},
                            "transfer_reason": "asked for pricing"}}
        if self.webhook_url:
            body["bot"] = {"callback_url": self.webhook_url}
        await self._timed("start", self.bot.post("/v1/transfers", json=body))
        rep = None  # whoever the offer goes to
        for who, path, step in STEPS:
            if step_name(step) == "proceed" and self.reply_after:
                await asyncio.sleep(self.reply_after)
            asked = time.perf_counter()
            client = rep if who == "rep" else self.bot
            view = (await self._timed(step_name(step), client.post(f"/v1/transfers/{tid}/{path}", json=step))).json()
            if step_name(step) == "proceed":
                rep = self.reps[view["rep"]["id"]]
                if self.arrivals is not None:
                    await self._alerts(tid, asked)
        self.completed += 1

    async def _alerts(self, tid: str, asked: float) -> None:
        """The offer on the rep's stream and the bot's webhook line announcing the rep, from the `proceed`."""
        self.latencies["alert_sse"].append((await self.arrivals.when(tid, "sse:offer") - asked) * 1000)
        if self.webhook_url:
            self.latencies["alert_webhook"].append((await self.arrivals.when(tid, "webhook:available") - asked) * 1000)

    async def _timed(self, name: str, call) -> httpx.Response:  # call: an awaitable response
        began = time.perf_counter()
        response = await call
        self.latencies[name].append((time.perf_counter() - began) * 1000)
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{name}: HTTP {response.status_code} {response.text}")
        return response

    async def close(self) -> None:
        await asyncio.gather(self.bot.aclose(), *(client.aclose() for client in self.reps.values()))


class RelayedPaths:
    """A happy path's steps played over HTTP to bench.relay, each flow started by update-with-start as `up`'s API
    starts a transfer: the plain workflow's steps (as `happy_path` takes them, then its closing signal) or the
    transfer-shaped workflow's."""

    def __init__(self, url: str):
        self.http = http_client(url)

    async def plain(self, n: int) -> None:
        flow = transfer_id("relay-plain")
        await self._post(f"/plain/{flow}")
        for taken, (_, _, step) in enumerate(STEPS, start=1):
            await self._post(f"/plain/{flow}/steps", {"name": step_name(step), "last": taken == len(STEPS)})

    async def shaped(self, n: int) -> None:
        flow = transfer_id("relay-shaped")
        await self._post(f"/shaped/{flow}")
        for _ in TRANSFER_HAPPY_PATH.steps[1:]:
            await self._post(f"/shaped/{flow}/steps")

    async def _post(self, path: str, body: dict | None = None) -> dict:
        response = await self.http.post(path, json=body)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {response.status_code} {response.text}")
        return response.json()

    async def close(self) -> None:
        await self.http.aclose()


async def _untimed(_: str, call: Awaitable[Any]) -> Any:
    return await call


async def eager_first_answer(client: Client, task_queue: str) -> WorkflowHandle:
    """A plain workflow's first answer the fastest way with the worker in this process: eager start, then an update."""
    handle = await client.start_workflow(PlainWorkflow.run, id=transfer_id("plain-eager"), task_queue=task_queue,
                                         request_eager_start=True)
    await handle.execute_update(PlainWorkflow.first_answer)
    return handle


async def first_answer_with_start(client: Client, task_queue: str) -> WorkflowHandle:
    """A plain workflow's first answer in one call, as the API starts a transfer: update-with-start."""
    start = WithStartWorkflowOperation(PlainWorkflow.run, id=transfer_id("plain-uws"), task_queue=task_queue,
                                       id_conflict_policy=WorkflowIDConflictPolicy.FAIL)
    await client.execute_update_with_start_workflow(PlainWorkflow.first_answer, start_workflow_operation=start)
    return await start.workflow_handle()


async def happy_path(client: Client, task_queue: str, timed: Timed = _untimed) -> None:
    """A plain workflow taking a transfer's happy path: eager start and a first answer, then one update per
    bot or rep step; the least Temporal itself costs for the interactions a transfer has."""
    handle = await timed("eager_start_then_update", eager_first_answer(client, task_queue))
    for _, _, step in STEPS:
        await timed("update", handle.execute_update(PlainWorkflow.step, step_name(step)))
    await handle.signal(PlainWorkflow.finish)
