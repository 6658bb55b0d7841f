"""The Slack store: posted cards found by notice and by message, and request signatures remembered for a while."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store.slack import PostedMessage, SlackStore

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_a_request_signature_is_taken_once_within_the_window(db):
    store = SlackStore(db)
    window = timedelta(minutes=10)
    assert store.first_sight("v0=abc", NOW, window)
    assert not store.first_sight("v0=abc", NOW + timedelta(minutes=9), window)
    assert store.first_sight("v0=def", NOW, window)
    assert store.first_sight("v0=abc", NOW + timedelta(minutes=11), window)  # forgotten: refused as stale anyway


def test_a_card_is_found_by_its_notice_and_by_where_it_was_posted(db):
    store = SlackStore(db)
    card = [{"type": "header", "text": {"type": "plain_text", "text": "Hot transfer incoming"}}]
    for ts in ("1700000000.000100", "1700000001.000100"):  # posted twice: delivery is at least once
        store.record(PostedMessage(channel="D0SARAH", ts=ts, transfer_id="t1", notice_key="n-4", card=card), NOW)
    assert [m.ts for m in store.posted("t1", "n-4")] == ["1700000000.000100", "1700000001.000100"]
    assert store.posted("t1", "n-5") == []
    assert store.at("D0SARAH", "1700000001.000100").card == card
    assert store.at("C0SALES", "1700000001.000100") is None
