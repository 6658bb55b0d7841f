"""Slack's Web API faked at the boundary (respx), in its real shapes: 200 with ok true/false, 429."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import respx

from domain.notices import Notice
from integrations.notify.builtin import BuiltinNotifier
from integrations.notify.slack import POST_MESSAGE, SlackDispatcher
from tests.integrations.conftest import delivery_state


def _post_alert(db) -> int:
    notice = Notice(key="alert-1", transfer_id="t1", audience="rep", rep_id="sarah", kind="offer",
                    payload={"chat_text": "*Hot transfer incoming*\nJohn from Acme Corp"}, chat_to="C0123")
    return BuiltinNotifier(db).publish([notice])[0]


def test_posts_the_alert_once_with_the_bot_token(db):
    outbox_id = _post_alert(db)
    with respx.mock:
        route = respx.post(POST_MESSAGE).mock(return_value=httpx.Response(200, json={"ok": True, "ts": "1.2"}))
        slack = SlackDispatcher(db, "xoxb-test")
        assert slack.run_once() == 1
        assert slack.run_once() == 0  # delivered: never posted twice
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer xoxb-test"
    assert json.loads(request.content) == {"channel": "C0123", "text": "*Hot transfer incoming*\nJohn from Acme Corp",
                                           "unfurl_links": False}
    assert delivery_state(db, outbox_id, "chat").status == "delivered"


def test_a_refusal_or_rate_limit_is_retried_later(db):
    outbox_id = _post_alert(db)
    now = datetime.now(UTC)
    with respx.mock:
        respx.post(POST_MESSAGE).mock(side_effect=[httpx.Response(200, json={"ok": False, "error": "not_in_channel"}),
                                                   httpx.Response(429, headers={"Retry-After": "1"}),
                                                   httpx.Response(200, json={"ok": True})])
        slack = SlackDispatcher(db, "xoxb-test")
        assert slack.run_once(now) == 0
        assert "not_in_channel" in delivery_state(db, outbox_id, "chat").last_error
        assert slack.run_once(now + timedelta(seconds=1)) == 0
        assert slack.run_once(now + timedelta(seconds=3)) == 1
    assert delivery_state(db, outbox_id, "chat").attempts == 3
