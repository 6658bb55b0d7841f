"""Whether the API reaches Temporal now, so that a request that needs it is answered 503 within 2 seconds while
Temporal is down, rather than after the SDK's own retries (about 10 s) or, for a read, never.

A health check runs every CHECK_EVERY seconds, each bounded by CHECK_TIMEOUT. While the last one failed, a call is
refused at once; a call under way when a check fails is cut off and refused then. A call to a Temporal that answers
is never cut short, however long it waits: an action waits durably for a worker that is starting again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import Client, RPCTimeoutOrCancelledError
from temporalio.service import RPCError

from api.errors import ApiError

log = logging.getLogger(__name__)
T = TypeVar("T")

CHECK_EVERY = 0.5  # seconds between health checks
CHECK_TIMEOUT = 1.0  # seconds a health check may take: a call is refused at most their sum after Temporal went away
RETRY_AFTER_SECONDS = 2  # what a refused caller is told to wait: `up` has a dead dev server answering again in ~3 s


def unavailable(message: str) -> ApiError:
    """The 503 of a request that needs Temporal when it does not answer, with Retry-After."""
    return ApiError(503, "unavailable", message, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class TemporalReachability:
    def __init__(self, client: Client):
        self.client = client
        self.reachable = True  # until a health check says otherwise
        self._calls: set[asyncio.Task] = set()
        self._cut_off: set[asyncio.Task] = set()

    async def watch(self) -> None:
        """Check Temporal's health until cancelled (the app's lifespan runs it)."""
        while True:
            reachable = await self._healthy()
            if reachable != self.reachable:
                log.warning("Temporal at %s is %s", self.client.service_client.config.target_host,
                            "reachable again" if reachable else "unreachable: requests that need it get 503")
            self.reachable = reachable
            if not reachable:
                for call in self._calls - self._cut_off:
                    self._cut_off.add(call)
                    call.cancel()
            await asyncio.sleep(CHECK_EVERY)

    async def _healthy(self) -> bool:
        try:
            return await self.client.service_client.check_health(timeout=timedelta(seconds=CHECK_TIMEOUT))
        except (RPCError, RuntimeError):  # RuntimeError: the SDK's failure to connect at all
            return False

    async def call(self, call: Coroutine[Any, Any, T]) -> T:
        """The call's result, or a 503 ApiError if Temporal is unreachable now or is found to be before it ends."""
        if not self.reachable:
            call.close()
            raise unavailable("The workflow service is unreachable; try again shortly.")
        task = asyncio.ensure_future(call)
        # Whatever ends the task (a cut-off, this request cancelled at shutdown) its exception is read, so asyncio
        # never logs it as "never retrieved".
        task.add_done_callback(retrieve_outcome)
        self._calls.add(task)
        try:
            return await task
        except (asyncio.CancelledError, RPCTimeoutOrCancelledError) as err:
            # The SDK turns the cancellation of a start or an update into its own error. Either the call was cut off
            # here, or this request was cancelled: the API is stopping and its grace period is over. Then a 503 is
            # the last thing it says, rather than a dropped connection and a traceback in the log.
            if task in self._cut_off:
                raise unavailable("The workflow service stopped answering; try again shortly.") from None
            if isinstance(err, asyncio.CancelledError):
                asyncio.current_task().uncancel()
            raise unavailable("The call to the workflow service was cut short; try again shortly.") from None
        finally:
            self._calls.discard(task)
            self._cut_off.discard(task)


def retrieve_outcome(task: asyncio.Task) -> None:
    """A done callback: the task's exception is read, so asyncio never logs it as never retrieved."""
    if not task.cancelled():
        task.exception()
