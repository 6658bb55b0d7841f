"""Wake-ups across hosts on PostgreSQL: an outbox append through one Database (a worker's process) wakes the readers
of another (an API process) that listens, and the listener carries on after its connection is killed.

Each Database has a Wakeup of its own, as two processes do; only LISTEN/NOTIFY joins them here."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from store.db import Database
from store.outbox import OutboxStore, rep_topic
from store.wakeup import Wakeup
from store.wakeup_pg import APPLICATION_NAME, MAX_PAYLOAD, listening
from tests.conftest import postgres_admin

pytestmark = pytest.mark.postgres
NEVER = 60.0  # only a wake-up can end these waits within the test


@pytest.fixture
def worker_and_api(postgres_url: str) -> Iterator[tuple[OutboxStore, OutboxStore]]:
    """The outbox as a worker's process and as an API's process each open it."""
    worker, api = Database(postgres_url), Database(postgres_url)
    yield OutboxStore(worker), OutboxStore(api)
    worker.dispose()
    api.dispose()


def offer(transfer_id: str, rep_id: str) -> dict:
    return {"transfer_id": transfer_id, "key": f"offer-{rep_id}", "audience": "rep", "rep_id": rep_id,
            "kind": "offer", "payload": {"transfer_id": transfer_id}}


async def woken(wakeup: Wakeup, mark: int, topic: str | None = None) -> bool:
    """Whether a notify ended the wait (rather than the wait's end)."""
    await wakeup.wait(mark, NEVER, topic)
    return wakeup.mark() != mark


def kill_listeners(database: str) -> int:
    """pg_terminate_backend on every listening connection to `database`; how many there were."""
    with postgres_admin() as admin:
        return len(admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s "
                                 "AND datname = %s", (APPLICATION_NAME, database)).fetchall())


async def test_an_append_through_one_database_wakes_the_listening_readers_of_another(worker_and_api) -> None:
    worker, api = worker_and_api
    listened = api.appended.mark()
    async with listening(api.db, api.appended):
        assert await woken(api.appended, listened)  # listening: every reader looks once
        sarahs = asyncio.create_task(woken(api.appended, api.appended.mark(), rep_topic("sarah")))
        alexs = asyncio.create_task(api.appended.wait(api.appended.mark(), NEVER, rep_topic("alex")))
        await asyncio.sleep(0.05)
        [offered] = await asyncio.to_thread(worker.append, [offer("t-wake-1", "sarah")])

        assert await sarahs
        assert [row.id for row in api.for_rep("sarah", offered - 1)] == [offered]  # committed before it was heard
        assert not alexs.done()  # another rep's stream is not woken
        alexs.cancel()


async def test_the_listener_listens_again_after_its_connection_is_killed(worker_and_api) -> None:
    worker, api = worker_and_api
    listened = api.appended.mark()
    async with listening(api.db, api.appended, reconnect_seconds=0.1):
        assert await woken(api.appended, listened)
        cut_off = api.appended.mark()
        assert await asyncio.to_thread(kill_listeners, api.db.url.database) >= 1

        assert await woken(api.appended, cut_off)  # listening again: every reader looks once more
        sarahs = asyncio.create_task(woken(api.appended, api.appended.mark(), rep_topic("sarah")))
        await asyncio.sleep(0.05)
        await asyncio.to_thread(worker.append, [offer("t-wake-2", "sarah")])
        assert await sarahs


async def test_topics_beyond_one_notification_go_in_several(worker_and_api) -> None:
    worker, api = worker_and_api
    reps = [f"rep-{n:040d}" for n in range(400)]  # about 20 kB of topics: three notifications
    assert sum(len(rep_topic(rep)) + 1 for rep in reps) > 2 * MAX_PAYLOAD
    listened = api.appended.mark()
    async with listening(api.db, api.appended):
        assert await woken(api.appended, listened)
        first, last = (asyncio.create_task(woken(api.appended, api.appended.mark(), rep_topic(rep)))
                       for rep in (reps[0], reps[-1]))
        await asyncio.sleep(0.05)
        await asyncio.to_thread(worker.append, [offer("t-wake-3", rep) for rep in reps])
        assert await first and await last
