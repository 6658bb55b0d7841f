"""A bot that repeats POST /v1/transfers gets its answer and leaves nothing behind in the log."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from contextlib import contextmanager

from tests.e2e.conftest import ADMIN_KEY


@contextmanager
def unhandled_errors() -> Iterator[list[dict]]:
    """What reaches the event loop's exception handler meanwhile: asyncio logs it there, with its traceback.

    A future whose exception nobody read reports itself when it is collected, so garbage is collected first
    (to leave out what came before) and last (to bring out what came meanwhile)."""
    loop = asyncio.get_running_loop()
    reported: list[dict] = []
    gc.collect()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: reported.append(context))
    try:
        yield reported
        gc.collect()
    finally:
        loop.set_exception_handler(previous)


async def test_a_repeated_start_logs_no_traceback(stack, acme_context):
    stack.rep("sarah", capacity=2)
    body = {"context": {**acme_context, "transfer_id": "xfer_twice"}, "routing": {"team": "enterprise"}}
    async with stack.http(ADMIN_KEY) as admin:
        bot_key = (await admin.post("/v1/api-keys", json={"role": "bot"})).json()["key"]
    async with stack.http(bot_key) as bot:
        assert (await bot.post("/v1/transfers", json=body)).status_code == 201
        with unhandled_errors() as reported:
            assert (await bot.post("/v1/transfers", json=body)).status_code == 200
            other = {**body, "bot": {"name": "Max"}}
            assert (await bot.post("/v1/transfers", json=other)).status_code == 409
    assert [context["message"] for context in reported] == []


async def test_a_start_repeated_after_the_transfer_ended_answers_with_how_it_ended(stack):
    stack.rep("sarah")
    body = {"transfer_id": "xfer_gone", "routing": {"team": "enterprise"}, "context": {"prospect": {"name": "Ola"}}}
    async with stack.http(ADMIN_KEY) as bot:
        assert (await bot.post("/v1/transfers", json=body)).status_code == 201
        left = await bot.post("/v1/transfers/xfer_gone/prospect", json={"action": "left"})
        assert left.json()["status"] == "cancelled"
        again = await bot.post("/v1/transfers", json=body)
        assert again.status_code == 200 and again.json()["status"] == "cancelled"
        other = await bot.post("/v1/transfers", json={**body, "bot": {"name": "Max"}})
        assert other.status_code == 409 and other.json()["error"]["code"] == "conflict"
