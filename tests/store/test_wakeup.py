from __future__ import annotations

import asyncio
import threading

from store.db import Database
from store.outbox import DeliveryQueue, OutboxStore
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


async def test_an_append_wakes_the_readers_of_its_transfer_and_its_rep(db):
    outbox = OutboxStore(db)
    mark = outbox.appended.mark()
    readers = {topic: asyncio.create_task(outbox.appended.wait(mark, NEVER, topic))
               for topic in ("transfer:t-1", "rep:sarah", "rep:alex")}
    await asyncio.sleep(0.05)
    notice = {"transfer_id": "t-1", "key": "k", "audience": "rep", "rep_id": "sarah", "kind": "offer", "payload": {}}
    await asyncio.to_thread(outbox.append, [notice])
    await asyncio.wait_for(asyncio.gather(readers["transfer:t-1"], readers["rep:sarah"]), 5)
    assert not readers["rep:alex"].done()
    readers["rep:alex"].cancel()


async def test_a_reader_with_a_topic_sleeps_through_writes_on_other_topics():
    wakeup = Wakeup()
    mark = wakeup.mark()
    sarahs = asyncio.create_task(wakeup.wait(mark, NEVER, "rep:sarah"))
    everyone = asyncio.create_task(wakeup.wait(mark, NEVER))
    await asyncio.sleep(0.05)
    wakeup.notify({"rep:alex", "transfer:t-1"})
    await asyncio.wait_for(everyone, 5)
    await asyncio.sleep(0.05)
    assert not sarahs.done()
    wakeup.notify({"rep:sarah"})
    await asyncio.wait_for(sarahs, 5)


async def test_an_append_wakes_a_channels_dispatchers_only_when_it_has_something_for_that_channel(db):
    outbox = OutboxStore(db)
    webhooks, email = DeliveryQueue(db, "webhook"), DeliveryQueue(db, "email")
    mark = outbox.appended.mark()
    waiting = {queue.channel: asyncio.create_task(queue.appended.wait(mark, NEVER, queue.topic))
               for queue in (webhooks, email)}
    await asyncio.sleep(0.05)
    to_rep = {"transfer_id": "t-1", "key": "a", "audience": "rep", "rep_id": "sarah", "kind": "offer", "payload": {}}
    await asyncio.to_thread(outbox.append, [to_rep])
    await asyncio.sleep(0.05)
    assert not any(task.done() for task in waiting.values())
    to_bot = {"transfer_id": "t-1", "key": "b", "audience": "bot", "kind": "bot_line", "payload": {},
              "callback_url": "http://127.0.0.1:9/hook"}
    await asyncio.to_thread(outbox.append, [to_bot])
    await asyncio.wait_for(waiting["webhook"], 5)
    assert not waiting["email"].done()
    waiting["email"].cancel()
