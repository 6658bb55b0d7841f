"""What the background loops (the outbox's dispatchers, the CalDAV sync, the CRM note retries) share: a run that fails,
as when the database is down, never ends the loop, and the loop waits longer after each failure in a row. Its log
says the first failure whole, then one line each time the run of failures doubles and one when a run succeeds
again, so a ten-second outage is a handful of lines, not thousands."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

log = logging.getLogger(__name__)

LONGEST_WAIT = 30.0  # seconds between tries however long the outage: recovery is noticed within this


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if `stop` is set meanwhile."""
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


class RunFailures:
    """Consecutive failed runs of one loop, and how long to wait after the latest."""

    def __init__(self, loop: str, interval: float) -> None:
        self.loop, self.interval, self.count = loop, interval, 0

    def failed(self, error: Exception) -> float:
        """Log a failed run (call it while handling `error`); returns the seconds to wait before the next."""
        self.count += 1
        wait = min(self.interval * 2**self.count, LONGEST_WAIT)
        if self.count == 1:
            log.exception("%s: run failed; trying again, less often while it keeps failing", self.loop)
        elif self.count & (self.count - 1) == 0:  # 2, 4, 8, ...: a line per doubling, not per try
            log.warning("%s: %d runs in a row failed (latest: %s); next try in %.1f s",
                        self.loop, self.count, type(error).__name__, wait)
        return wait

    def succeeded(self) -> None:
        if self.count:
            log.info("%s: running again after %d failed runs", self.loop, self.count)
        self.count = 0
