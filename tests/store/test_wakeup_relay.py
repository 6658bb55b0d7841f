"""Wake-ups relayed between processes of one host through Unix datagram sockets in a shared directory.

Both ends run in this process here, on two Wakeup objects, as `up`'s worker and API do in two processes (that
case, end to end: tests/workers/test_up_and_demo.py)."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from store.wakeup import Wakeup
from store.wakeup_relay import RelayListener, RelaySender, WakeupRelayError

NEVER = 60.0  # only a relayed notify can end these waits within the test


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    return tmp_path / "wakeup"


async def waiting(wakeup: Wakeup, topic: str | None) -> asyncio.Task:
    task = asyncio.create_task(wakeup.wait(wakeup.mark(), NEVER, topic))
    await asyncio.sleep(0.02)
    return task


async def test_a_notify_in_one_process_wakes_the_readers_of_its_topics_in_another(directory: Path):
    writer, reader = Wakeup(), Wakeup()
    listener = RelayListener(directory, reader)
    listener.start()
    sender = RelaySender(directory)
    try:
        sarahs, alexs, anyones = [await waiting(reader, topic) for topic in ("rep:sarah", "rep:alex", None)]
        with writer.relaying(sender):
            writer.notify({"rep:sarah", "transfer:t-1"})
        await asyncio.wait_for(asyncio.gather(sarahs, anyones), 5)
        await asyncio.sleep(0.05)
        assert not alexs.done()
        alexs.cancel()
    finally:
        sender.close()
        listener.close()
    assert not listener.path.exists()


async def test_many_topics_go_in_several_datagrams_and_all_arrive(directory: Path):
    reader = Wakeup()
    listener = RelayListener(directory, reader)
    listener.start()
    topics = [f"transfer:{n:030d}" for n in range(2000)]  # about 80 kB: three datagrams
    last = await waiting(reader, topics[-1])
    sender = RelaySender(directory)
    try:
        sender(topics)
        await asyncio.wait_for(last, 5)
    finally:
        sender.close()
        listener.close()


async def test_no_topics_wakes_the_readers_waiting_without_one(directory: Path):
    reader = Wakeup()
    listener = RelayListener(directory, reader)
    listener.start()
    anyone = await waiting(reader, None)
    with RelaySender(directory) as sender:
        sender(())
    await asyncio.wait_for(anyone, 5)
    listener.close()


def test_a_socket_left_by_a_dead_process_is_removed_and_nobody_is_missing_is_no_error(directory: Path):
    with RelaySender(directory) as sender:
        sender({"rep:sarah"})  # no directory yet: no reader has started
        directory.mkdir()
        stale = directory / "999999.sock"
        leftover = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        leftover.bind(str(stale))
        leftover.close()  # the file stays, nobody reads it
        sender({"rep:sarah"})
    assert not stale.exists()


async def test_what_a_listener_hears_is_not_relayed_again(directory: Path):
    reader = Wakeup()
    listener = RelayListener(directory, reader)
    listener.start()
    heard_again: list = []
    with RelaySender(directory) as sender, reader.relaying(heard_again.append):
        woken = await waiting(reader, "rep:sarah")
        sender({"rep:sarah"})
        await asyncio.wait_for(woken, 5)
    listener.close()
    assert heard_again == []


def test_a_directory_whose_path_is_too_long_for_a_socket_is_a_clear_error(tmp_path: Path):
    deep = tmp_path / ("d" * 100)
    with pytest.raises(WakeupRelayError, match="WT_WAKEUP_DIR"):
        RelayListener(deep, Wakeup()).start()


async def test_a_listener_takes_over_a_socket_its_pid_left_behind(directory: Path):
    directory.mkdir()
    leftover = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    leftover.bind(str(directory / f"{os.getpid()}.sock"))
    leftover.close()
    listener = RelayListener(directory, Wakeup())
    listener.start()
    listener.close()
