from __future__ import annotations

import asyncio
import threading

from store.db import Database
from store.outbox import OutboxStore
from store.wakeup import Wakeup, wakeup_for

NEVER = 60.0  # a timeout no test waits out: only a notify can end these waits


async def test_a_notify_since_the_mark_ends_the_wait_at_once():
    wakeup = Wakeup()
    mark = wakeup.mark()
    wakeup.notify()
    await asyncio.wait_for(wakeup.wait(mark, NEVER), 5)


async def test_a_notify_from_another_thread_wakes_a_waiting_loop():
    wakeup = Wakeup()
    mark = wakeup.mark()
    waiting = asyncio.create_task(wakeup.wait(mark, NEVER))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    threading.Thread(target=wakeup.notify).start()
    await asyncio.wait_for(waiting, 5)


async def test_without_a_notify_the_wait_ends_at_its_timeout():
    wakeup = Wakeup()
    await wakeup.wait(wakeup.mark(), 0.01)
    assert wakeup.mark() == 0


def test_every_store_on_one_database_shares_its_wakeup(tmp_path):
    db, other = Database(f"sqlite:///{tmp_path}/a.db"), Database(f"sqlite:///{tmp_path}/b.db")
    assert OutboxStore(db).appended is wakeup_for(db) is OutboxStore(db).appended
    assert wakeup_for(other) is not wakeup_for(db)


def test_an_append_notifies(db):
    outbox = OutboxStore(db)
    mark = outbox.appended.mark()
    outbox.append([{"transfer_id": "t-1", "key": "k", "audience": "bot", "kind": "bot_line", "payload": {}}])
    assert outbox.appended.mark() != mark
