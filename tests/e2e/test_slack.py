"""Slack on the real stack: an offer's card in the rep's direct messages, clicks on it posted as Slack posts them
(form-encoded, signed with the app's signing secret) to the real API, the actions reaching the real transfer, and the
card edited in place. Slack's Web API is faked at its HTTP boundary (tests/integrations/fake_slack.py); the replies
to a click's response_url reach a real HTTP receiver on loopback."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
import pytest
from pydantic import SecretStr

from integrations.notify.slack import ACCEPT, ANYONE, CALLBACK, DEFER, SlackDispatcher
from integrations.notify.slack_interactivity import SlackInteractions
from tests.conftest import Receiver
from tests.e2e.conftest import ADMIN_KEY, Stack, stack_on
from tests.integrations.fake_slack import FakeSlack

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # the shape of a Slack app's signing secret
TOKEN = "xoxb-test-token"
WAIT = 200  # tries, 0.05 s apart, for what the API does after answering Slack


@pytest.fixture
async def slack_stack(local_env, tmp_path, receiver: Receiver) -> AsyncIterator[Stack]:
    """The stack with a Slack app set up; response_urls lead to `receiver`."""
    def with_slack(stack: Stack) -> None:
        stack.settings = stack.settings.model_copy(update={
            "slack_bot_token": SecretStr(TOKEN), "slack_signing_secret": SecretStr(SIGNING_SECRET),
            "slack_channel": "C0SALES"})
        db = stack.services.db
        stack.services.integrations = replace(stack.services.integrations, chat=SlackDispatcher(db, TOKEN),
                                              slack=SlackInteractions(db, SIGNING_SECRET, reply_to=receiver.url))

    async with stack_on(local_env.client, tmp_path, with_slack) as stack:
        yield stack


class SlackUser:
    """A Slack member clicking on cards: each click posted as Slack posts it, signed."""

    def __init__(self, stack: Stack, receiver: Receiver, user_id: str):
        self.stack, self.receiver, self.user_id = stack, receiver, user_id

    async def click(self, card: dict, action_id: str, **chosen) -> httpx.Response:
        return await self.send(*signed(self.payload(card, action_id, **chosen)))

    async def send(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.stack.url) as slack:
            return await slack.post("/v1/slack/interactivity", content=body, headers=headers)

    def payload(self, card: dict, action_id: str, **chosen) -> dict:
        """A block_actions payload in Slack's shape, for the element `action_id` of the posted `card`."""
        block, element = next((block, element) for block in card["blocks"] if block["type"] == "actions"
                              for element in block["elements"] if element["action_id"] == action_id)
        action = {**element, "block_id": block["block_id"], "action_ts": f"{time.time():.6f}", **chosen}
        return {
            "type": "block_actions", "api_app_id": "A0WARMXFER", "token": "verification-token-unused",
            "trigger_id": "1337.42.abcdef", "team": {"id": "T0ACME", "domain": "acme"},
            "user": {"id": self.user_id, "username": self.user_id.lower(), "name": self.user_id.lower(),
                     "team_id": "T0ACME"},
            "container": {"type": "message", "message_ts": card["ts"], "channel_id": card["channel"],
                          "is_ephemeral": False},
            "channel": {"id": card["channel"], "name": "directmessage"},
            "message": {"type": "message", "ts": card["ts"], "text": card["text"], "blocks": card["blocks"]},
            "response_url": f"{self.receiver.url}/T0ACME/{self.user_id}/reply",
            "actions": [action],
        }


def signed(payload: dict, secret: str = SIGNING_SECRET, at: int | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers of Slack's request carrying `payload`."""
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return body, signature(body, secret, at)


def signature(body: bytes, secret: str = SIGNING_SECRET, at: int | None = None) -> dict[str, str]:
    """Slack's headers for `body`: v0=HMAC-SHA256(secret, "v0:<timestamp>:<body>")."""
    timestamp = str(at if at is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": f"v0={digest}"}


def deliver(stack: Stack) -> FakeSlack:
    """Deliver the outbox's Slack notices to a fake Slack; returns it, with what was sent."""
    with FakeSlack() as slack:
        stack.services.integrations.chat.run_once()
    return slack


def card_in(slack: FakeSlack, channel: str) -> dict:
    """The card last posted to `channel`, as the rep's Slack shows it (channel, ts, text, blocks)."""
    body = slack.sent("chat.postMessage")[-1]
    assert body["channel"] == channel
    ts = next(ts for (posted_in, ts), message in slack.messages.items() if message["text"] == body["text"])
    return {**slack.messages[(channel, ts)], "channel": channel}


async def until(read: Callable, holds: Callable[[object], bool]):
    """What `read` gives once `holds` is true of it (the API acts on a click after answering Slack)."""
    for _ in range(WAIT):
        value = await read()
        if holds(value):
            return value
        await asyncio.sleep(0.05)
    pytest.fail(f"never came true; last seen: {value}")


async def offer_to(stack: Stack, acme_context: dict, transfer_id: str, rep_id: str) -> None:
    body = {"transfer_id": transfer_id, "context": {**acme_context, "transfer_id": transfer_id},
            "routing": {"team": "enterprise", "preferred_rep_id": rep_id}, "bot": {"name": "Ava"}}
    async with stack.http(stack.bot_key) as bot:
        assert (await bot.post("/v1/transfers", json=body)).status_code == 201
        view = (await bot.post(f"/v1/transfers/{transfer_id}/prospect", json={"action": "proceed"})).json()
        assert (view["status"], view["rep"]["id"]) == ("offered", rep_id)


async def view_of(stack: Stack, transfer_id: str) -> dict:
    async with stack.http(ADMIN_KEY) as admin:
        return (await admin.get(f"/v1/transfers/{transfer_id}")).json()


async def replies(receiver: Receiver, count: int) -> list[dict]:
    async def read() -> list[dict]:
        return [request.json() for request in receiver.requests]
    return await until(read, lambda seen: len(seen) >= count)


async def test_an_offer_is_accepted_in_slack_and_its_card_says_so(slack_stack, receiver, acme_context):
    stack = slack_stack
    stack.rep("sarah", name="Sarah Chen", slack_user_id="U0SARAH")
    stack.rep("alex", name="Alex Kim", slack_user_id="U0ALEX")
    stack.rep("priya", name="Priya Nair")  # not in Slack by id: her alerts go to the team channel
    await offer_to(stack, acme_context, "xfer_slack", "sarah")

    slack = deliver(stack)
    assert slack.sent("conversations.open") == [{"users": "U0SARAH"}]
    card = card_in(slack, "D0SARAH")
    assert card["blocks"][0]["text"]["text"] == "🔥 Hot transfer incoming"
    assert "Score: 85/100 (hot)" in card["blocks"][2]["text"]["text"]
    pick_list = next(e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]
                     if e["action_id"] == DEFER)
    assert [option["value"] for option in pick_list["options"]] == [ANYONE, "alex", "priya"]

    sarah, alex = SlackUser(stack, receiver, "U0SARAH"), SlackUser(stack, receiver, "U0ALEX")
    forged = await sarah.send(*signed(sarah.payload(card, ACCEPT), secret="not-the-signing-secret"))
    stale = await sarah.send(*signed(sarah.payload(card, ACCEPT), at=int(time.time()) - 6 * 60))
    far_off = await sarah.send(*signed(sarah.payload(card, ACCEPT), at=999999999999))  # past any date's year 9999
    body, _ = signed(sarah.payload(card, ACCEPT))
    unsigned = await sarah.send(body, {"Content-Type": "application/x-www-form-urlencoded"})
    for refused, reason in ((forged, "signature"), (stale, "stale"), (far_off, "stale"), (unsigned, "not signed")):
        assert refused.status_code == 401 and reason in refused.json()["error"]["message"]

    assert (await alex.click(card, ACCEPT)).status_code == 200  # Sarah's card, in a channel Alex can see
    (reply,) = await replies(receiver, 1)
    assert reply == {"response_type": "ephemeral", "replace_original": False,
                     "text": "That did not go through: this transfer is not yours to act on"}
    assert receiver.requests[0].path == "/hooks/T0ACME/U0ALEX/reply"
    assert (await view_of(stack, "xfer_slack"))["status"] == "offered"

    accepting = signed(sarah.payload(card, ACCEPT))
    assert (await sarah.send(*accepting)).status_code == 200  # answered at once; the action follows
    view = await until(lambda: view_of(stack, "xfer_slack"), lambda v: v["status"] == "connecting")
    assert view["rep"]["id"] == "sarah"
    replayed = await sarah.send(*accepting)
    assert replayed.status_code == 401 and "replayed" in replayed.json()["error"]["message"]

    slack = deliver(stack)
    (edit,) = slack.sent("chat.update")
    assert (edit["channel"], edit["ts"], edit["text"]) == ("D0SARAH", card["ts"], "✅ Accepted by Sarah Chen")
    assert all(block["type"] != "actions" for block in edit["blocks"])
    assert edit["blocks"][:4] == card["blocks"][:4]  # the card stays, its actions go


async def test_defer_and_callback_from_slack_move_the_transfer_and_edit_each_card(slack_stack, receiver,
                                                                                 acme_context):
    stack = slack_stack
    stack.rep("sarah", name="Sarah Chen", slack_user_id="U0SARAH")
    stack.rep("alex", name="Alex Kim", slack_user_id="U0ALEX")
    await offer_to(stack, acme_context, "xfer_slack_defer", "sarah")
    sarah_card = card_in(deliver(stack), "D0SARAH")

    sarah = SlackUser(stack, receiver, "U0SARAH")
    alex_option = {"text": {"type": "plain_text", "text": "Alex Kim", "emoji": True}, "value": "alex"}
    assert (await sarah.click(sarah_card, DEFER, selected_option=alex_option)).status_code == 200
    await until(lambda: view_of(stack, "xfer_slack_defer"), lambda v: (v["rep"] or {}).get("id") == "alex")

    slack = deliver(stack)
    assert slack.sent("chat.update")[0]["text"] == "↪️ Deferred to Alex Kim"
    alex_card = card_in(slack, "D0ALEX")

    callback_at = (datetime.now(UTC) + timedelta(days=1)).replace(minute=30, second=0, microsecond=0)
    alex = SlackUser(stack, receiver, "U0ALEX")
    assert (await alex.click(alex_card, CALLBACK, selected_date_time=int(callback_at.timestamp()))).status_code == 200
    view = await until(lambda: view_of(stack, "xfer_slack_defer"), lambda v: v["status"] == "callback_scheduled")
    assert datetime.fromisoformat(view["follow_up_at"]) == callback_at

    edit = deliver(stack).sent("chat.update")[0]
    assert edit["channel"] == "D0ALEX" and edit["text"].startswith(
        f"📞 Callback scheduled for <!date^{int(callback_at.timestamp())}^")
    assert receiver.requests == []  # nothing was refused


async def test_an_expired_offer_edits_its_card_and_a_late_click_is_refused(slack_stack, receiver, acme_context):
    stack = slack_stack
    stack.settings.offer_timeout = 5  # the smallest the settings allow
    stack.rep("sarah", name="Sarah Chen", slack_user_id="U0SARAH")
    await offer_to(stack, acme_context, "xfer_slack_late", "sarah")
    card = card_in(deliver(stack), "D0SARAH")

    await until(lambda: view_of(stack, "xfer_slack_late"), lambda v: v["status"] != "offered")
    assert deliver(stack).sent("chat.update")[0]["text"] == "⌛ Expired, re-routed"

    assert (await SlackUser(stack, receiver, "U0SARAH").click(card, ACCEPT)).status_code == 200
    (reply,) = await replies(receiver, 1)
    # The console's own refusal: the offer lapsed, the transfer waits in the queue (Sarah was set away).
    assert reply["text"] == "That did not go through: 'accept' is not possible while the transfer is queued"
    assert (await view_of(stack, "xfer_slack_late"))["status"] == "queued"  # unchanged by the late click


async def test_clicks_that_cannot_be_taken_are_told_to_whoever_clicked(slack_stack, receiver, acme_context):
    stack = slack_stack
    stack.rep("sarah", name="Sarah Chen", slack_user_id="U0SARAH")
    await offer_to(stack, acme_context, "xfer_slack_odd", "sarah")
    card = card_in(deliver(stack), "D0SARAH")

    stranger = SlackUser(stack, receiver, "U0STRANGER")
    assert (await stranger.click(card, ACCEPT)).status_code == 200
    sarah = SlackUser(stack, receiver, "U0SARAH")
    not_ours = {**card, "ts": "1699999999.000001"}
    assert (await sarah.click(not_ours, ACCEPT)).status_code == 200
    junk = {"text": {"type": "plain_text", "text": "?"}, "value": "not a rep id!"}
    assert (await sarah.click(card, DEFER, selected_option=junk)).status_code == 200
    texts = [reply["text"] for reply in await replies(receiver, 3)]
    assert sorted(texts) == sorted([
        "Your Slack account is not linked to a rep: ask your admin to add your Slack member id (slack_user_id) to "
        "your rep profile.",
        "This message is not a transfer offer that Warm Transfer knows.",
        "That choice is not one the offer takes: pick again from the card."])

    other_kind = await sarah.send(*signed({"type": "view_submission", "user": {"id": "U0SARAH"}}))
    assert other_kind.status_code == 200
    for malformed in (b'{"type": "block_actions"}', urlencode({"payload": "[1, 2]"}).encode(),
                      b"payload=" + b"[" * 100_000 + b"]" * 100_000,
                      urlencode({"payload": json.dumps({"type": "block_actions", "actions": []})}).encode()):
        answer = await sarah.send(malformed, signature(malformed))
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_request"
    assert (await view_of(stack, "xfer_slack_odd"))["status"] == "offered"


async def test_without_a_signing_secret_there_is_no_slack_endpoint(stack):
    async with httpx.AsyncClient(base_url=stack.url) as slack:
        answer = await slack.post("/v1/slack/interactivity", content=signed({"type": "block_actions"})[0])
    assert answer.status_code == 404


async def test_reps_are_linked_to_slack_and_see_whom_they_can_defer_to(stack):
    sarah_key = stack.rep("sarah", name="Sarah Chen")
    stack.rep("alex", name="Alex Kim", title="Solutions engineer")
    stack.rep("busy", name="Bo Busy")
    stack.services.reps.set_presence("busy", "busy", datetime.now(UTC))
    stack.rep("smb", name="Sam Other", team="smb")
    async with stack.http(ADMIN_KEY) as admin, stack.http(sarah_key) as sarah:
        assert (await admin.patch("/v1/reps/sarah", json={"slack_user_id": "sarah"})).status_code == 422
        linked = await admin.patch("/v1/reps/sarah", json={"slack_user_id": "U0SARAH"})
        assert linked.json()["rep"]["slack_user_id"] == "U0SARAH"
        taken = await admin.patch("/v1/reps/alex", json={"slack_user_id": "U0SARAH"})
        assert taken.status_code == 409
        colleagues = (await sarah.get("/v1/reps/me/colleagues")).json()
        assert colleagues == [{"rep": {"id": "alex", "name": "Alex Kim", "title": "Solutions engineer",
                                       "expertise": None, "team": "enterprise", "skills": [], "languages": ["en"]},
                               "presence": "available"}]
        assert (await admin.get("/v1/reps/me/colleagues")).status_code == 403
