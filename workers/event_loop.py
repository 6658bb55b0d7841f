"""The event loop Warm Transfer's processes run on: uvloop where it is installed (Linux and macOS), else asyncio's.

uvloop runs the same asyncio code for less CPU: in `up`'s closed loop a happy path cost the worker about a tenth
less and the API about a fourteenth less (`git show ca8de1d:bench/README.md`, "Ninth pass").
WT_EVENT_LOOP=asyncio goes back to the standard loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from config import EventLoopName

Result = TypeVar("Result")


def loop_factory(name: EventLoopName) -> Callable[[], asyncio.AbstractEventLoop]:
    """The named loop's constructor; asyncio's when uvloop is asked for but not installed (Windows)."""
    if name == "uvloop":
        with contextlib.suppress(ImportError):
            import uvloop

            return uvloop.new_event_loop
    return asyncio.new_event_loop


def run(main: Coroutine[Any, Any, Result], name: EventLoopName = "uvloop") -> Result:
    """asyncio.run(main) on the named loop."""
    with asyncio.Runner(loop_factory=loop_factory(name)) as runner:
        return runner.run(main)
