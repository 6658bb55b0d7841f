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


async def _told(key: str, stack) -> list[tuple[str, str]]:
    """(event, transfer id) of what a stream opened now replays: all it sends before it falls idle."""
    told, event = [], None
    async with stack.http(key) as rep, rep.stream("GET", "/v1/reps/me/stream") as stream:
        lines = stream.aiter_lines()
        while True:
            try:
                line = await asyncio.wait_for(anext(lines), 1)
            except TimeoutError:
                return told
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                told.append((event, json.loads(line.removeprefix("data: ")).get("transfer_id")))


async def test_an_offer_that_went_to_a_colleague_is_not_replayed_to_the_rep_who_declined_it(stack, acme_context):
    sarah, alex = stack.rep("sarah", name="Sarah Chen", capacity=2), stack.rep("alex", name="Alex Kim")
    bodies = [{"transfer_id": tid, "context": {**acme_context, "transfer_id": tid},
               "routing": {"team": "enterprise", "preferred_rep_id": "sarah"}} for tid in ("xfer_passed", "xfer_kept")]
    async with stack.http(stack.bot_key) as bot, stack.http(sarah) as sarah_api:
        for body in bodies:
            assert (await bot.post("/v1/transfers", json=body)).status_code == 201
            assert (await bot.post(f"/v1/transfers/{body['transfer_id']}/prospect",
                                   json={"action": "proceed"})).json()["rep"]["id"] == "sarah"
        passed = await sarah_api.post("/v1/transfers/xfer_passed/rep", json={"action": "decline"})
        assert passed.json()["rep"]["id"] == "alex"  # offered to her colleague now
        assert (await sarah_api.post("/v1/transfers/xfer_kept/rep", json={"action": "accept"})).status_code == 200
    replayed = await _told(sarah, stack)
    assert ("offer", "xfer_kept") in replayed  # hers: the console rebuilds its view from it
    assert ("offer", "xfer_passed") not in replayed  # Alex's now: its details are not told to her again
    assert ("offer_closed", "xfer_passed") in replayed  # what carries no details still is
    assert ("offer", "xfer_passed") in await _told(alex, stack)
