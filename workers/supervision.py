"""`up` keeps its children alive: a child process that dies is started again, unless it keeps dying."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

from workers.devserver import StackError

RESTARTS, RESTART_WINDOW = 3, 60  # `up` gives up on a child that dies this often (times, seconds)


async def keep_alive(name: str, exited: Callable[[], Awaitable[int]], start_again: Callable[[], Awaitable[None]],
                     last_words: Callable[[], str]) -> None:
    """Whenever `exited()` returns (the child died, with that code), `start_again()`. A StackError, naming the child
    and ending with `last_words()` (where to read why), once it has died RESTARTS times within RESTART_WINDOW
    seconds: a child that dies as soon as it starts would otherwise be restarted forever."""
    loop = asyncio.get_running_loop()
    deaths: list[float] = []
    while True:
        code = await exited()
        deaths = [t for t in deaths if loop.time() - t < RESTART_WINDOW] + [loop.time()]
        if len(deaths) >= RESTARTS:
            raise StackError(f"{name} exited {len(deaths)} times within {RESTART_WINDOW} s (last code {code}); "
                             f"{last_words()}")
        print(f"{name} exited (code {code}); starting it again.", file=sys.stderr, flush=True)
        await start_again()
