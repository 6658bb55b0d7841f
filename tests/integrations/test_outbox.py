from __future__ import annotations

from datetime import UTC

import pytest

from domain.notices import Notice
from integrations.notify.base import DeliveryError
from integrations.notify.builtin import BuiltinNotifier
from store.outbox import OutboxStore


def notice(key: str, transfer_id: str = "t-1", **fields) -> Notice:
    return Notice(key=key, transfer_id=transfer_id, audience=fields.pop("audience", "bot"), kind="bot_line", **fields)


def test_publish_returns_ids_in_order_and_repeats_return_the_first_ids(db):
    notifier = BuiltinNotifier(db)
    first = notifier.publish([notice("a", payload={"n": 1}), notice("b"), notice("a", transfer_id="t-2")])
    assert len(set(first)) == 3

    # A retried activity publishes the same keys again, even with a changed payload: nothing new.
    again = notifier.publish([notice("b"), notice("a", payload={"n": 2}), notice("c")])
    assert again[:2] == [first[1], first[0]]
    assert again[2] not in first

    rows = OutboxStore(db).for_transfer("t-1")
    assert [(row.key, row.payload) for row in rows] == [("a", {"n": 1}), ("b", {}), ("c", {})]


def test_a_key_repeated_within_one_batch_is_stored_once(db):
    ids = BuiltinNotifier(db).publish([notice("a"), notice("a")])
    assert ids[0] == ids[1]
    assert len(OutboxStore(db).for_transfer("t-1")) == 1


def test_publish_of_nothing_is_a_no_op(db):
    assert BuiltinNotifier(db).publish([]) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"callback_url": "ftp://bot.example/hook"},
        {"callback_url": "not a url"},
        {"email_to": "not-an-address", "payload": {"subject": "s", "body": "b"}},
        {"email_to": "ann@example.com", "payload": {"body": "no subject"}},
        {"email_to": "ann@example.com", "payload": {"subject": "two\nlines", "body": "b"}},
    ],
)
def test_undeliverable_notices_are_refused_and_nothing_of_the_batch_is_stored(db, bad):
    with pytest.raises(DeliveryError) as error:
        BuiltinNotifier(db).publish([notice("fine"), notice("bad", **bad)])
    assert error.value.retryable is False
    assert OutboxStore(db).for_transfer("t-1") == []


def test_readers_page_by_id_and_filter_by_audience_and_rep(db):
    store = OutboxStore(db)
    assert store.latest_id() == 0
    ids = BuiltinNotifier(db).publish(
        [
            notice("line-1"),
            notice("offer", audience="rep", rep_id="rep-7"),
            notice("line-2"),
            notice("other-offer", transfer_id="t-2", audience="rep", rep_id="rep-7"),
            notice("ops", audience="ops"),
        ]
    )
    assert store.latest_id() == ids[-1]

    bot_lines = store.for_transfer("t-1", audience="bot")
    assert [row.key for row in bot_lines] == ["line-1", "line-2"]
    assert [row.key for row in store.for_transfer("t-1", after_id=ids[1])] == ["line-2", "ops"]
    assert [row.key for row in store.for_transfer("t-1", limit=2)] == ["line-1", "offer"]

    rep_rows = store.for_rep("rep-7")
    assert [(row.transfer_id, row.key) for row in rep_rows] == [("t-1", "offer"), ("t-2", "other-offer")]
    assert store.for_rep("rep-7", after_id=rep_rows[0].id) == rep_rows[1:]

    assert all(row.created_at.tzinfo is UTC for row in bot_lines)
