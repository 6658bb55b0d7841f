from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError
from warm_transfer_client import InvalidSignature, verify_signature, verify_webhook

from domain.notices import Notice
from integrations.background import LONGEST_WAIT, RunFailures
from integrations.notify.builtin import BuiltinNotifier
from integrations.notify.destinations import CallbackPolicy
from integrations.notify.dispatch import backoff
from integrations.notify.webhooks import WebhookDispatcher, sign
from store.db import Database
from store.outbox import DeliveryQueue
from tests.conftest import drip_server
from tests.integrations.conftest import delivery_state

SECRET = "whsec-test"
LOOPBACK = CallbackPolicy(["127.0.0.1"])  # where the tests' receiver listens


def loopback_dispatcher(db: Database, **options) -> WebhookDispatcher:
    return WebhookDispatcher(db, SECRET, destinations=LOOPBACK, **options)


def bot_notice(key: str, url: str, transfer_id: str = "t-1") -> Notice:
    return Notice(
        key=key,
        transfer_id=transfer_id,
        audience="bot",
        kind="bot_line",
        payload={"text": "Je vous mets en relation — un instant"},
        callback_url=url,
    )


def soon() -> datetime:
    """A moment at which every row published so far is due."""
    return datetime.now(UTC) + timedelta(seconds=1)


# --- signature ---------------------------------------------------------------------------------


def test_what_the_api_signs_the_bots_client_verifies():
    """The signer here and the verifier bots use (clients/python, whose tests cover each way a header can fail)."""
    now = datetime(2030, 1, 1, tzinfo=UTC)
    body = b'{"id":1,"kind":"bot_line"}'
    header = sign(SECRET, int(now.timestamp()), body)
    verify_signature(SECRET, header, body, now=now.timestamp())
    for secret, tampered in ((SECRET, body.replace(b"1", b"2")), ("another-secret", body)):
        with pytest.raises(InvalidSignature):
            verify_signature(secret, header, tampered, now=now.timestamp())


def test_backoff_doubles_from_one_second_up_to_five_minutes():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4, 9, 10, 500)] == [1, 2, 4, 8, 256, 300, 300]


# --- delivery ----------------------------------------------------------------------------------


def test_delivers_a_signed_event_once(db, receiver):
    [outbox_id] = BuiltinNotifier(db).publish([bot_notice("line-1", receiver.url)])
    BuiltinNotifier(db).publish([Notice(key="no-hook", transfer_id="t-1", audience="rep", kind="offer")])
    dispatcher = loopback_dispatcher(db)
    now = soon()

    assert dispatcher.run_once(now) == 1
    assert dispatcher.run_once(now + timedelta(hours=1)) == 0
    BuiltinNotifier(db).publish([bot_notice("line-1", receiver.url)])  # a retried publish
    assert dispatcher.run_once(now + timedelta(hours=2)) == 0

    [request] = receiver.requests
    assert request.path == "/hooks"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-WT-Event-Id"] == str(outbox_id)
    verified = verify_webhook(SECRET, request.headers["X-WT-Signature"], request.body, now=now.timestamp())
    assert (verified.id, verified.transfer_id, verified.kind) == (outbox_id, "t-1", "bot_line")
    event = request.json()
    assert event.keys() == {"id", "transfer_id", "kind", "payload", "created_at"}
    assert (event["id"], event["transfer_id"], event["kind"]) == (outbox_id, "t-1", "bot_line")
    assert event["payload"]["text"] == "Je vous mets en relation — un instant"
    assert datetime.fromisoformat(event["created_at"]).tzinfo is not None
    assert delivery_state(db, outbox_id, "webhook").status == "delivered"
    dispatcher.close()


def test_a_batch_is_settled_in_one_write(db, receiver, monkeypatch: pytest.MonkeyPatch):
    ids = BuiltinNotifier(db).publish([bot_notice(f"line-{n}", receiver.url) for n in range(3)])
    receiver.respond(200, 500, 200)
    writes = Counter()
    session = db.session
    monkeypatch.setattr(db, "session", lambda: writes.update(["write"]) or session())

    assert loopback_dispatcher(db).run_once(soon()) == 2
    assert writes["write"] == 3  # the claim, the failure's back-off, and one for both deliveries
    assert [delivery_state(db, i, "webhook").status for i in ids] == ["delivered", "pending", "delivered"]


def test_deliveries_made_before_an_unexpected_error_are_settled(db, receiver):
    ids = BuiltinNotifier(db).publish([bot_notice(f"line-{n}", receiver.url) for n in range(2)])
    dispatcher = loopback_dispatcher(db)
    send = dispatcher.send
    dispatcher.send = lambda delivery, now: send(delivery, now) if delivery.row.id == ids[0] else 1 / 0

    with pytest.raises(ZeroDivisionError):
        dispatcher.run_once(soon())
    assert delivery_state(db, ids[0], "webhook").status == "delivered"  # not sent again
    assert delivery_state(db, ids[1], "webhook").status == "pending"  # its lease runs out, then it is retried


def test_transfers_are_sent_at_once_and_each_one_in_order(db, receiver):
    ids = BuiltinNotifier(db).publish(
        [bot_notice(f"line-{n}", receiver.url, transfer_id=f"t-{n % 4}") for n in range(12)])
    receiver.delay = 0.2  # a slow bot: sent one at a time, 12 rows would take 2.4 s

    assert loopback_dispatcher(db).run_once(soon()) == 12
    assert receiver.most_in_flight >= 2
    for n in range(4):
        sent = [int(r.headers["X-WT-Event-Id"]) for r in receiver.requests if r.json()["transfer_id"] == f"t-{n}"]
        assert sent == ids[n::4]


def test_a_dispatcher_of_concurrency_one_sends_one_at_a_time(db, receiver):
    BuiltinNotifier(db).publish([bot_notice(f"line-{n}", receiver.url, transfer_id=f"t-{n}") for n in range(3)])
    receiver.delay = 0.05
    assert loopback_dispatcher(db, concurrency=1).run_once(soon()) == 3
    assert receiver.most_in_flight == 1


def test_failures_back_off_exponentially_then_succeed(db, receiver):
    [outbox_id] = BuiltinNotifier(db).publish([bot_notice("line-1", receiver.url)])
    receiver.respond(500, 429)
    dispatcher = loopback_dispatcher(db)
    t0 = soon()

    assert dispatcher.run_once(t0) == 0  # attempt 1: 500, next in 1 s
    state = delivery_state(db, outbox_id, "webhook")
    assert (state.status, state.attempts, state.last_error) == ("pending", 1, "HTTP 500")
    assert state.next_attempt_at == t0 + timedelta(seconds=1)

    assert dispatcher.run_once(t0 + timedelta(milliseconds=999)) == 0
    assert len(receiver.requests) == 1
    assert dispatcher.run_once(t0 + timedelta(seconds=1)) == 0  # attempt 2: 429, next in 2 s
    assert dispatcher.run_once(t0 + timedelta(seconds=2.9)) == 0
    assert len(receiver.requests) == 2
    assert dispatcher.run_once(t0 + timedelta(seconds=3)) == 1  # attempt 3: 200

    assert len(receiver.requests) == 3
    assert len({r.headers["X-WT-Event-Id"] for r in receiver.requests}) == 1
    state = delivery_state(db, outbox_id, "webhook")
    assert (state.status, state.attempts, state.last_error) == ("delivered", 3, None)


def test_gives_up_after_max_attempts(db, receiver):
    [outbox_id] = BuiltinNotifier(db).publish([bot_notice("line-1", receiver.url)])
    receiver.respond(503, 503, 503, 503)
    dispatcher = loopback_dispatcher(db, max_attempts=3)
    now = soon()
    for _ in range(6):
        dispatcher.run_once(now)
        now += timedelta(minutes=10)

    assert len(receiver.requests) == 3
    state = delivery_state(db, outbox_id, "webhook")
    assert (state.status, state.attempts, state.last_error) == ("dead", 3, "HTTP 503")


def test_an_unreachable_bot_is_retried(db, receiver):
    [outbox_id] = BuiltinNotifier(db).publish([bot_notice("line-1", "http://127.0.0.1:9/closed")])
    dispatcher = loopback_dispatcher(db)
    assert dispatcher.run_once(soon()) == 0
    state = delivery_state(db, outbox_id, "webhook")
    assert state.status == "pending"
    assert state.last_error.startswith("ConnectError")


@pytest.mark.timeout(10)
def test_a_bot_that_drips_its_answer_is_given_up_at_the_timeout_in_all(db):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n"
    with drip_server(head, b" ", every=0.2) as drip:
        [outbox_id] = BuiltinNotifier(db).publish([bot_notice("line-1", f"http://127.0.0.1:{drip.port}/hooks")])
        started = time.monotonic()
        assert loopback_dispatcher(db, timeout=1).run_once(soon()) == 0
        assert time.monotonic() - started < 1.5 and drip.let_go()
    state = delivery_state(db, outbox_id, "webhook")
    assert (state.status, state.last_error) == ("pending", "the callback_url did not answer within 1 s")


def test_an_answer_too_large_is_not_read_to_its_end(db):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000000\r\n\r\n"
    with drip_server(head, b" " * 65536, every=0) as drip:
        [outbox_id] = BuiltinNotifier(db).publish([bot_notice("line-1", f"http://127.0.0.1:{drip.port}/hooks")])
        assert loopback_dispatcher(db).run_once(soon()) == 0
        assert drip.let_go() and drip.sent < 30_000_000
    assert delivery_state(db, outbox_id, "webhook").last_error == "the callback_url answered with more than 64 KiB"


@pytest.mark.parametrize("callback", ["https://localhost:{port}/hooks", "https://127.1:{port}/hooks",
                                      "https://2130706433:{port}/hooks", "https://[::ffff:127.0.0.1]:{port}/hooks",
                                      "http://127.0.0.1:{port}/hooks", "https://user:pw@localhost:{port}/hooks"])
def test_a_callback_to_a_loopback_address_fails_for_good_at_once(db, receiver, callback):
    """The default rules (no allow-list): nothing reaches the receiver, and the delivery is dead after one
    attempt, with the reason, never retried."""
    port = receiver.url.split(":")[2].split("/")[0]
    [outbox_id] = BuiltinNotifier(db).publish([bot_notice("line-1", callback.format(port=port))])
    dispatcher = WebhookDispatcher(db, SECRET)
    now = soon()
    for _ in range(3):
        assert dispatcher.run_once(now) == 0
        now += timedelta(minutes=10)

    assert receiver.requests == []
    state = delivery_state(db, outbox_id, "webhook")
    assert (state.status, state.attempts) == ("dead", 1)
    assert state.last_error.startswith("refused: the callback_url")


def test_the_connection_goes_to_the_address_that_was_checked(db, receiver, monkeypatch):
    """DNS rebinding: a name whose next answer leads elsewhere. The name is resolved once per connection, its
    addresses are checked, and the connection goes to one of them: a listener on a later answer's address never
    hears of it. (The name is allow-listed so that plain http reaches the test's receiver.)"""
    port = int(receiver.url.split(":")[2].split("/")[0])
    with socket.socket() as elsewhere:  # on 127.0.0.9, with the receiver's port
        elsewhere.bind(("127.0.0.9", port))
        elsewhere.listen()
        elsewhere.setblocking(False)
        answers = iter(["127.0.0.1"] + ["127.0.0.9"] * 10)
        real = socket.getaddrinfo

        def rebinding(host, *args, **kwargs):
            return real(next(answers) if host == "hooks.rebind.test" else host, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", rebinding)
        BuiltinNotifier(db).publish([bot_notice("line-1", f"http://hooks.rebind.test:{port}/hooks")])
        dispatcher = WebhookDispatcher(db, SECRET, destinations=CallbackPolicy(["hooks.rebind.test"]))

        assert dispatcher.run_once(soon()) == 1
        assert len(receiver.requests) == 1 and receiver.requests[0].headers["Host"] == f"hooks.rebind.test:{port}"
        assert next(answers) == "127.0.0.9"  # resolved once
        with pytest.raises(BlockingIOError):
            elsewhere.accept()  # nobody came


def test_a_crashed_dispatchers_rows_are_taken_over_when_its_lease_expires(db, receiver):
    [outbox_id] = BuiltinNotifier(db).publish([bot_notice("line-1", receiver.url)])
    lease = timedelta(seconds=30)
    now = soon()
    [crashed] = DeliveryQueue(db, "webhook").claim(now, limit=10, lease=lease)  # and then it died

    dispatcher = loopback_dispatcher(db, lease=lease)
    assert dispatcher.run_once(now + timedelta(seconds=29)) == 0
    assert dispatcher.run_once(now + lease) == 1
    assert len(receiver.requests) == 1

    # The late dispatcher wakes up: its lease is gone, so it changes nothing.
    DeliveryQueue(db, "webhook").retry_at(crashed, now, "late")
    state = delivery_state(db, outbox_id, "webhook")
    assert (state.status, state.attempts, state.last_error) == ("delivered", 2, None)


def test_two_dispatchers_racing_never_send_a_row_twice(db_url, receiver):
    count = 120
    seed = Database(db_url)
    ids = BuiltinNotifier(seed).publish(
        [bot_notice(f"line-{n}", receiver.url, transfer_id=f"t-{n % 7}") for n in range(count)]
    )
    seed.dispose()
    receiver.delay = 0.001
    databases = [Database(db_url), Database(db_url)]  # two processes, two connection pools
    dispatchers = [loopback_dispatcher(database, batch_size=4) for database in databases]
    start = threading.Barrier(len(dispatchers))
    delivered = Counter()

    def drain(dispatcher: WebhookDispatcher) -> None:
        start.wait()
        while (sent := dispatcher.run_once(soon())) or len(receiver.requests) < count:
            delivered[id(dispatcher)] += sent

    threads = [threading.Thread(target=drain, args=(d,)) for d in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    sent_ids = Counter(int(r.headers["X-WT-Event-Id"]) for r in receiver.requests)
    assert sorted(sent_ids) == sorted(ids)
    assert set(sent_ids.values()) == {1}
    assert sum(delivered.values()) == count
    assert len(delivered) == 2, "both dispatchers should have taken a share, or nothing raced"
    for database in databases:
        database.dispose()


async def test_run_forever_delivers_until_stopped(db, receiver):
    dispatcher = loopback_dispatcher(db)
    stop = asyncio.Event()
    loop = asyncio.create_task(dispatcher.run_forever(stop, interval=0.02))
    BuiltinNotifier(db).publish([bot_notice("line-1", receiver.url)])
    for _ in range(200):
        if receiver.requests:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(loop, timeout=5)
    assert len(receiver.requests) == 1


async def test_a_database_outage_slows_the_dispatcher_and_logs_a_few_lines_not_one_per_try(db, receiver, caplog,
                                                                                        monkeypatch):
    dispatcher = loopback_dispatcher(db)
    claim, tries = dispatcher.queue.claim, []

    def down_for_a_while(*args, **kwargs):
        tries.append(len(tries))
        if len(tries) <= 9:
            raise OperationalError("SELECT", {}, ConnectionRefusedError("database down"))
        return claim(*args, **kwargs)

    monkeypatch.setattr(dispatcher.queue, "claim", down_for_a_while)
    BuiltinNotifier(db).publish([bot_notice("line-1", receiver.url)])
    stop = asyncio.Event()
    caplog.set_level(logging.INFO, logger="integrations.background")
    loop = asyncio.create_task(dispatcher.run_forever(stop, interval=0.0005))
    for _ in range(500):
        if receiver.requests:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(loop, timeout=5)
    assert len(receiver.requests) == 1  # delivered once the database is back
    # The first failure with its traceback; 2, 4 and 8 in a row; back: five lines for nine failed runs.
    assert [(r.levelname, r.exc_info is not None) for r in caplog.records] == [
        ("ERROR", True), ("WARNING", False), ("WARNING", False), ("WARNING", False), ("INFO", False)]
    assert "9 failed runs" in caplog.records[-1].getMessage()


def test_the_wait_after_failed_runs_doubles_up_to_its_ceiling():
    failures = RunFailures("a loop", interval=1.0)
    waits = []
    for _ in range(7):
        try:
            raise OSError("down")
        except OSError as error:
            waits.append(failures.failed(error))
    assert waits == [2.0, 4.0, 8.0, 16.0, LONGEST_WAIT, LONGEST_WAIT, LONGEST_WAIT]
    failures.succeeded()
    assert failures.count == 0


async def test_a_notice_published_in_this_process_is_sent_without_waiting_for_the_next_poll(db, receiver):
    dispatcher = loopback_dispatcher(db)
    stop = asyncio.Event()
    loop = asyncio.create_task(dispatcher.run_forever(stop, interval=3600))  # a poll would never come
    await asyncio.sleep(0.1)  # idle: it has polled once and found nothing
    await asyncio.to_thread(BuiltinNotifier(db).publish, [bot_notice("line-1", receiver.url)])
    for _ in range(500):
        if receiver.requests:
            break
        await asyncio.sleep(0.01)
    stop.set()  # stopping wakes an idle dispatcher too
    await asyncio.wait_for(loop, timeout=5)
    assert len(receiver.requests) == 1
