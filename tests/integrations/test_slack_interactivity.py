"""Slack's interactivity requests checked and read: whatever the headers and body hold, the answer is a refusal
(RequestRefused, the API's 401) or a malformed payload (NotAnInteraction, its 422), never another exception."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from integrations.notify.slack_interactivity import NotAnInteraction, RequestRefused, SlackInteractions
from tests.conftest import drip_server

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def _signature(body: bytes, timestamp: str) -> str:
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return f"v0={digest}"


@pytest.mark.parametrize("timestamp", ["999999999999", "0", "1", "253402300800", "-1700000000", "1e9", "１７",
                                       "17000000000000000000000"])
def test_a_timestamp_far_from_now_or_not_a_number_is_refused(db, timestamp):
    body = urlencode({"payload": "{}"}).encode()
    with pytest.raises(RequestRefused):
        SlackInteractions(db, SIGNING_SECRET).verify(body, timestamp, _signature(body, timestamp), datetime.now(UTC))


def test_a_fresh_signed_request_is_taken_once(db):
    now = datetime.now(UTC)
    body, timestamp = urlencode({"payload": "{}"}).encode(), str(int(now.timestamp()))
    slack = SlackInteractions(db, SIGNING_SECRET)
    slack.verify(body, timestamp, _signature(body, timestamp), now)
    with pytest.raises(RequestRefused, match="replayed"):
        slack.verify(body, timestamp, _signature(body, timestamp), now)


@pytest.mark.parametrize("payload", ["[" * 100_000 + "]" * 100_000, '{"a": ' * 100_000 + "1" + "}" * 100_000])
def test_a_payload_nested_too_deep_is_not_an_interaction(payload):
    with pytest.raises(NotAnInteraction):
        SlackInteractions.read(urlencode({"payload": payload}).encode())


def test_a_block_actions_payload_is_read():
    payload = {"type": "block_actions", "user": {"id": "U0SARAH"}, "actions": [{"action_id": "accept"}],
               "container": {"channel_id": "D0SARAH", "message_ts": "1.2"}, "response_url": "https://hooks.slack.com/x"}
    click = SlackInteractions.read(urlencode({"payload": json.dumps(payload)}).encode())
    assert click is not None and click.user.id == "U0SARAH"


@pytest.mark.timeout(10)
def test_a_reply_slack_drips_the_answer_to_is_given_up_at_the_timeout_in_all(db, caplog):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n"
    with drip_server(head, b" ", every=0.2) as drip:
        url = f"http://127.0.0.1:{drip.port}/actions/T0/1/x"
        slack = SlackInteractions(db, SIGNING_SECRET, reply_to=url, reply_timeout=1)
        started = time.monotonic()
        slack.reply(url, "That did not go through")
        assert time.monotonic() - started < 1.5 and drip.let_go()
    assert "Slack reply not delivered: ReadTimeout" in caplog.text
