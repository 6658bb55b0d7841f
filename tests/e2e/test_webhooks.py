"""A bot that gave a callback_url gets every event POSTed there, signed, in order, once each."""

from __future__ import annotations

import json

import pytest
from warm_transfer_client import InvalidSignature, verify_webhook

from tests.conftest import Receiver
from tests.e2e.conftest import ADMIN_KEY


async def test_bot_lines_and_states_reach_the_bot_webhook_signed(stack, receiver: Receiver, acme_context):
    stack.rep("sarah", name="Sarah Chen")
    body = {"context": {**acme_context, "transfer_id": "xfer_hook"}, "routing": {"team": "enterprise"},
            "bot": {"name": "Ava", "callback_url": receiver.url}}
    async with stack.http(ADMIN_KEY) as bot:
        assert (await bot.post("/v1/transfers", json=body)).status_code == 201
        assert (await bot.post("/v1/transfers/xfer_hook/prospect", json={"action": "proceed"})).json()["status"] \
            == "offered"

    webhooks = stack.services.integrations.webhooks
    delivered = webhooks.run_once()
    assert delivered == len(stack.services.outbox.for_transfer("xfer_hook", 0, "bot")) > 0
    assert webhooks.run_once() == 0  # delivered once: nothing is sent again

    events = [request.json() for request in receiver.requests]
    assert [e["payload"]["kind"] for e in events if e["kind"] == "bot_line"] == ["prepare", "available"]
    assert [e["payload"]["status"] for e in events if e["kind"] == "status"] == [
        "requested", "preparing", "checking", "offered"]
    ids = [int(request.headers["X-WT-Event-Id"]) for request in receiver.requests]
    assert ids == sorted(set(ids))
    secret = stack.settings.webhook_secret.get_secret_value()
    for request in receiver.requests:  # as a bot checks them, with the bots' client
        event = verify_webhook(secret, request.headers["X-WT-Signature"], request.body)
        assert event.id == int(request.headers["X-WT-Event-Id"]) and event.transfer_id == "xfer_hook"
        tampered = json.dumps({**request.json(), "kind": "forged"}).encode()
        with pytest.raises(InvalidSignature):
            verify_webhook(secret, request.headers["X-WT-Signature"], tampered)
