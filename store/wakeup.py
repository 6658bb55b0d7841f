"""An in-process wake-up for readers of a table that polls would otherwise find late.

A writer (any thread) calls `notify(topics)` after its commit; a reader (any event loop) notes `mark()`
before it reads and, if it found nothing, waits with `wait(mark, timeout, topic)`. That returns at once
if anything was committed since the mark (at worst one needless read), and otherwise when a write on its
topic comes, so a hundred open consoles do not all re-read on every write. A notice written by the
worker reaches an SSE stream or a dispatcher in the same process in about a millisecond, not a poll
interval later. Processes of one host can pass their wake-ups on to each other (store.wakeup_relay), and processes
on any host through PostgreSQL (store.wakeup_pg); the timeout keeps polling as the fallback for writers nobody relays.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Callable, Collection, Iterator


class Wakeup:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._waiters: set[tuple[str | None, asyncio.AbstractEventLoop, asyncio.Future]] = set()
        self._relays: list[Callable[[Collection[str]], None]] = []

    def mark(self) -> int:
        return self._count

    @contextlib.contextmanager
    def relaying(self, relay: Callable[[Collection[str]], None]) -> Iterator[None]:
        """Within the block, pass every notify() on to `relay` too (readers in other processes)."""
        self._relays.append(relay)
        try:
            yield
        finally:
            self._relays.remove(relay)

    def notify(self, topics: Collection[str] = ()) -> None:
        """Wake the readers of any of `topics`, and every reader waiting without a topic, here and wherever
        this wake-up is relayed to."""
        self.notify_here(topics)
        for relay in self._relays:
            relay(topics)

    def notify_here(self, topics: Collection[str] = ()) -> None:
        """notify() for this process's readers only: what a relay delivers, so it is not relayed again."""
        self._wake(lambda topic: topic is None or topic in topics)

    def notify_everyone(self) -> None:
        """Wake every reader of this process, whatever its topic: a relay that was cut off may have missed notices."""
        self._wake(lambda _topic: True)

    def _wake(self, reads: Callable[[str | None], bool]) -> None:
        with self._lock:
            self._count += 1
            waiters = [(loop, future) for topic, loop, future in self._waiters if reads(topic)]
        for loop, future in waiters:
            with contextlib.suppress(RuntimeError):  # that loop has closed: nobody is waiting there any more
                loop.call_soon_threadsafe(_resolve, future)

    async def wait(self, mark: int, timeout: float, topic: str | None = None) -> None:
        """Until a notify() after `mark` (on `topic`, if given), or `timeout` seconds."""
        loop = asyncio.get_running_loop()
        waiter = (topic, loop, loop.create_future())
        with self._lock:
            if self._count != mark:
                return
            self._waiters.add(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter[2], timeout)
        finally:
            with self._lock:
                self._waiters.discard(waiter)


def topic_batches(topics: Collection[str], max_bytes: int) -> list[bytes]:
    """Topics one per line, in batches of at most `max_bytes` (a relay's message); no topics is one empty batch,
    which wakes the readers waiting without a topic (`topics_in` reads a batch back)."""
    batches, current = [], b""
    for topic in sorted(topics):
        line = topic.encode()
        if current and len(current) + 1 + len(line) > max_bytes:
            batches.append(current)
            current = b""
        current = line if not current else current + b"\n" + line
    return batches + [current] if current or not batches else batches


def topics_in(batch: str) -> list[str]:
    """The topics of one of `topic_batches`."""
    return batch.split("\n") if batch else []


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)


_by_owner: weakref.WeakKeyDictionary[object, Wakeup] = weakref.WeakKeyDictionary()
_registry_lock = threading.Lock()


def wakeup_for(owner: object) -> Wakeup:
    """The one Wakeup of `owner` (a Database): every store built on it shares it."""
    with _registry_lock:
        found = _by_owner.get(owner)
        if found is None:
            found = _by_owner[owner] = Wakeup()
        return found
