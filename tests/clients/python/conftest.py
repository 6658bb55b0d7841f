"""The bots' client (clients/python) against the real stack: the local Temporal dev server, a worker and the API.

Every test body runs with both clients: `AsyncWarmTransfer` as it is, and `WarmTransfer` in a thread of its own
(the stack serves on the test's event loop, which a blocking call on it would stop).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from warm_transfer_client import AsyncWarmTransfer, Event, WarmTransfer

from tests.e2e.conftest import ADMIN_KEY, Stack, stack  # noqa: F401 (the fixture, for the tests here)
from tests.fixtures import CONVERSATIONS


class Driven:
    """A client whose every method is awaited, whichever kind it is."""

    def __init__(self, client: WarmTransfer | AsyncWarmTransfer):
        self.client = client
        self.blocking = isinstance(client, WarmTransfer)

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self.client, name)
        if not self.blocking:
            return method

        async def in_thread(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(method, *args, **kwargs)

        return in_thread

    async def events_until(self, transfer_id: str, done: Callable[[Event], bool], **options: Any) -> list[Event]:
        """The transfer's events, up to the first that is `done`."""
        if self.blocking:
            def read() -> list[Event]:
                seen = []
                for event in self.client.events(transfer_id, **options):
                    seen.append(event)
                    if done(event):
                        return seen
                raise AssertionError("the stream ended")

            return await asyncio.to_thread(read)
        seen = []
        async for event in self.client.events(transfer_id, **options):
            seen.append(event)
            if done(event):
                return seen
        raise AssertionError("the stream ended")

    async def close(self) -> None:
        if self.blocking:
            self.client.close()
        else:
            await self.client.aclose()


Connect = Callable[..., Driven]


@pytest.fixture(params=["async", "blocking"])
async def connect(request: pytest.FixtureRequest, stack: Stack) -> AsyncIterator[Connect]:  # noqa: F811
    """`connect(key, base_url=the stack's)`: a client of this test's kind, closed after the test."""
    made: list[Driven] = []
    kind = AsyncWarmTransfer if request.param == "async" else WarmTransfer

    def connect(key: str, base_url: str | None = None, **options: Any) -> Driven:
        made.append(Driven(kind(key, base_url or stack.url, **options)))
        return made[-1]

    yield connect
    for client in made:
        await client.close()


@pytest.fixture
def conversation() -> dict:
    """The shared example of an enterprise prospect asking for a demo, in the shape bots post it."""
    return json.loads((CONVERSATIONS / "demo_enterprise.json").read_text(encoding="utf-8"))


def status_is(status: str) -> Callable[[Event], bool]:
    return lambda event: event.status_change is not None and event.status_change.status == status
