"""Slack's Web API faked at the boundary (respx), in its real shapes: 200 with ok true/false, 429; the cards of
offers, in the rep's direct messages, edited when the offer ends."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from domain.notices import Notice
from domain.reps import RepProfile
from domain.scripts import RepAlert
from integrations.notify.builtin import BuiltinNotifier
from integrations.notify.slack import (
    ACCEPT,
    ANYONE,
    CALLBACK,
    DEFER,
    POST_MESSAGE,
    SlackDispatcher,
    alert_message,
    closed_message,
)
from store.slack import SlackStore
from tests.conftest import drip_server
from tests.integrations.conftest import delivery_state
from tests.integrations.fake_slack import FakeSlack


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


@pytest.mark.parametrize("error", [{"message": "no channel for ann@example.com"}, ["channel_not_found"], None,
                                   "Invalid channel for Ann Lee <ann@example.com>", "x" * 65])
def test_only_a_slack_error_code_is_kept_anything_else_is_unrecognised(db, error):
    outbox_id = _post_alert(db)
    with FakeSlack() as fake:
        fake.fail["chat.postMessage"].append(error)
        assert SlackDispatcher(db, "xoxb-test").run_once() == 0
    state = delivery_state(db, outbox_id, "chat")
    assert (state.status, state.last_error) == ("pending", "Slack refused chat.postMessage: unrecognised error")


def _slack_on(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    """chat.postMessage answered by a server on the loopback `port`."""
    monkeypatch.setattr("integrations.notify.slack.POST_MESSAGE", f"http://127.0.0.1:{port}/api/chat.postMessage")


@pytest.mark.timeout(10)
def test_a_slack_that_drips_its_answer_is_given_up_at_the_timeout_in_all(db, monkeypatch):
    outbox_id = _post_alert(db)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"
    with drip_server(head, b" ", every=0.2) as drip:
        _slack_on(monkeypatch, drip.port)
        dispatcher = SlackDispatcher(db, "xoxb-test", timeout=1)
        started = time.monotonic()
        assert dispatcher.run_once() == 0
        assert time.monotonic() - started < 1.5 and drip.let_go()
    assert delivery_state(db, outbox_id, "chat").last_error == "Slack did not answer chat.postMessage within 1 s"


def test_an_answer_too_large_is_not_read_to_its_end(db, monkeypatch):
    outbox_id = _post_alert(db)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"
    with drip_server(head, b" " * 65536, every=0) as drip:
        _slack_on(monkeypatch, drip.port)
        assert SlackDispatcher(db, "xoxb-test").run_once() == 0
        assert drip.let_go() and drip.sent < 30_000_000
    assert delivery_state(db, outbox_id, "chat").last_error == "Slack answered chat.postMessage with more than 1 MiB"


# ---- Block Kit cards, in the rep's direct messages, edited when the offer ends ---------------------------------------

EXPIRES = datetime(2026, 3, 2, 15, 4, 5, tzinfo=UTC)
ALERT = RepAlert(band="hot", headline="🔥 Hot transfer incoming", one_liner="Incoming: <!channel> from Acme & Co.",
                 lines=["Prospect: John Smith, VP Sales @ Acme Corp", "Score: 85/100 (hot)"])


def _offer(db, chat_to: str = "U0SARAH", key: str = "n-4") -> int:
    alex = RepProfile(id="alex", name="Alex Kim", title="Solutions engineer")
    fields = alert_message(ALERT, "en", link="https://wt.example.com/console", expires_at=EXPIRES, colleagues=[alex])
    notice = Notice(key=key, transfer_id="t1", audience="rep", rep_id="sarah", kind="offer",
                    payload={"alert": ALERT.model_dump(), **fields}, chat_to=chat_to)
    return BuiltinNotifier(db).publish([notice])[0]


def _closed(db, outcome: str = "accepted", offer: str = "n-4", **facts) -> int:
    fields = closed_message(offer, outcome, "en", rep="Sarah Chen", **facts)
    notice = Notice(key=f"closed-{offer}", transfer_id="t1", audience="rep", rep_id="sarah", kind="offer_closed",
                    payload=fields, chat_to="U0SARAH")
    return BuiltinNotifier(db).publish([notice])[0]


def test_an_offer_goes_to_the_reps_direct_messages_as_the_card_with_its_actions(db):
    _offer(db)
    with FakeSlack() as slack:
        assert SlackDispatcher(db, "xoxb-test").run_once() == 1
    assert [call.method for call in slack.calls] == ["conversations.open", "chat.postMessage"]
    assert {call.token for call in slack.calls} == {"xoxb-test"}
    assert slack.sent("conversations.open") == [{"users": "U0SARAH"}]
    post = slack.sent("chat.postMessage")[0]
    assert post["channel"] == "D0SARAH" and post["unfurl_links"] is False
    assert "&lt;!channel&gt; from Acme &amp; Co." in post["text"]  # what a prospect says never pings anyone
    header, one_liner, lines, footer, offer, label, picker = post["blocks"]
    assert header == {"type": "header",
                      "text": {"type": "plain_text", "text": "🔥 Hot transfer incoming", "emoji": True}}
    assert one_liner["text"] == {"type": "plain_text", "text": "Incoming: <!channel> from Acme & Co."}  # shown as is
    assert lines["text"]["text"] == "Prospect: John Smith, VP Sales @ Acme Corp\nScore: 85/100 (hot)"
    assert [e["text"] for e in footer["elements"]] == [
        f"Expires <!date^{int(EXPIRES.timestamp())}^{{time_secs}}|2026-03-02 15:04:05 UTC>",
        "<https://wt.example.com/console|Open in the console>"]
    accept, pick_list = offer["elements"]
    assert (accept["type"], accept["action_id"], accept["text"]["text"], accept["style"]) == (
        "button", ACCEPT, "Accept", "primary")
    assert (pick_list["type"], pick_list["action_id"], pick_list["placeholder"]["text"]) == (
        "static_select", DEFER, "Defer to colleague")
    assert [(o["value"], o["text"]["text"]) for o in pick_list["options"]] == [
        (ANYONE, "Whoever is free first"), ("alex", "Alex Kim")]
    assert label["text"]["text"] == "Schedule callback: pick a day and time"
    assert picker["elements"] == [{"type": "datetimepicker", "action_id": CALLBACK}]
    (message,) = SlackStore(db).posted("t1", "n-4")
    assert (message.channel, message.ts) == ("D0SARAH", "1700000000.000100")
    assert [block["type"] for block in message.card] == ["header", "section", "section", "context"]


def test_the_end_of_an_offer_edits_its_card_in_place(db):
    _offer(db)
    _closed(db, "deferred", colleague="Alex <Kim>")
    with FakeSlack() as slack:
        assert SlackDispatcher(db, "xoxb-test").run_once() == 2
    (edit,) = slack.sent("chat.update")
    assert (edit["channel"], edit["ts"]) == ("D0SARAH", "1700000000.000100")
    assert edit["text"] == "↪️ Deferred to Alex &lt;Kim&gt;"
    card = slack.messages[("D0SARAH", "1700000000.000100")]["blocks"]
    assert [block["type"] for block in card] == ["header", "section", "section", "context", "section"]
    assert card[-1]["text"] == {"type": "mrkdwn", "text": "↪️ Deferred to Alex &lt;Kim&gt;"}


def test_a_callback_is_shown_in_each_readers_own_time_zone(db):
    _offer(db)
    at = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
    _closed(db, "callback", at=at)
    with FakeSlack() as slack:
        SlackDispatcher(db, "xoxb-test").run_once()
    assert slack.sent("chat.update")[0]["text"] == (f"📞 Callback scheduled for <!date^{int(at.timestamp())}^"
                                                    "{date_short_pretty} {time}|2026-03-04 09:30:00 UTC>")


def test_an_edit_waits_for_its_offer_to_be_posted_and_is_dropped_if_it_never_is(db):
    _offer(db)
    edit_id = _closed(db, "expired")
    now = datetime.now(UTC)
    dispatcher = SlackDispatcher(db, "xoxb-test")
    with FakeSlack() as slack:
        slack.fail["chat.postMessage"].append("ratelimited")
        assert dispatcher.run_once(now) == 0
        assert "not in Slack yet" in delivery_state(db, edit_id, "chat").last_error
        assert dispatcher.run_once(now + timedelta(seconds=3)) == 2
    assert slack.sent("chat.update")[0]["text"] == "⌛ Expired, re-routed"

    never_posted = Notice(key="n-9", transfer_id="t1", audience="rep", rep_id="sarah", kind="offer")
    BuiltinNotifier(db).publish([never_posted])  # Slack was not set up when it was offered
    _closed(db, "accepted", offer="n-9")
    with FakeSlack() as slack:
        assert dispatcher.run_once(now + timedelta(seconds=10)) == 1
    assert slack.calls == []


def test_a_card_deleted_in_slack_is_not_edited_again_and_again(db):
    _offer(db)
    edit_id = _closed(db)
    with FakeSlack() as slack:
        slack.fail["chat.update"].append("message_not_found")
        assert SlackDispatcher(db, "xoxb-test").run_once() == 1
    state = delivery_state(db, edit_id, "chat")
    assert state.status == "dead" and "message_not_found" in state.last_error


def test_every_posted_copy_of_an_offer_is_edited(db):
    """Delivery is at least once: an offer posted twice (a dispatcher died before recording it) has two cards."""
    offer_id = _offer(db)
    _closed(db)
    dispatcher = SlackDispatcher(db, "xoxb-test")
    with FakeSlack() as slack:
        dispatcher.send(dispatcher.queue.claim(datetime.now(UTC), 1, timedelta(seconds=1))[0], datetime.now(UTC))
        assert dispatcher.run_once(datetime.now(UTC) + timedelta(seconds=2)) == 2
    assert delivery_state(db, offer_id, "chat").attempts == 2
    assert {(e["channel"], e["ts"]) for e in slack.sent("chat.update")} == set(slack.messages)
    assert len(slack.messages) == 2
