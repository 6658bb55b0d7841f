"""Server-sent events wake on an append made in the same process instead of waiting for the next poll."""

from __future__ import annotations

import asyncio
import json

from tests.e2e.conftest import ADMIN_KEY


async def test_the_reps_stream_carries_a_new_offer_without_polling(stack, acme_context):
    stack.app.state.poll_interval = 3600  # no poll would come within the test: only the wake-up can deliver
    sarah = stack.rep("sarah")
    body = {"transfer_id": "xfer_stream", "context": {**acme_context, "transfer_id": "xfer_stream"},
            "routing": {"team": "enterprise"}}

    async def first_offer() -> dict:
        async with stack.http(sarah) as rep, rep.stream("GET", "/v1/reps/me/stream") as stream:
            event = None
            async for line in stream.aiter_lines():
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: ") and event == "offer":
                    return json.loads(line.removeprefix("data: "))
        raise AssertionError("the stream ended without an offer")

    reading = asyncio.create_task(first_offer())
    await asyncio.sleep(0.5)  # the stream is open and idle
    async with stack.http(ADMIN_KEY) as bot:
        assert (await bot.post("/v1/transfers", json=body)).status_code == 201
        assert (await bot.post("/v1/transfers/xfer_stream/prospect", json={"action": "proceed"})).status_code == 200
    offer = await asyncio.wait_for(reading, 30)
    assert offer["transfer_id"] == "xfer_stream"


async def test_a_stream_ends_when_its_key_is_revoked(stack):
    stack.rep("sarah")
    async with stack.http(ADMIN_KEY) as admin:
        issued = (await admin.post("/v1/api-keys", json={"role": "rep", "rep_id": "sarah"})).json()
        async with stack.http(issued["key"]) as rep, rep.stream("GET", "/v1/reps/me/stream") as stream:
            assert stream.status_code == 200

            async def read_to_the_end() -> None:
                async for _ in stream.aiter_lines():
                    pass

            reading = asyncio.create_task(read_to_the_end())
            await asyncio.sleep(0.5)
            assert not reading.done()  # open and idle while the key is good
            assert (await admin.delete(f"/v1/api-keys/{issued['id']}")).status_code == 200
            await asyncio.wait_for(reading, 10)  # ended: offers to come no longer reach a revoked key
            assert (await rep.get("/v1/reps/me/stream")).status_code == 401
