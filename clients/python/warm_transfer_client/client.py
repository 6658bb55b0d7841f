"""The clients: `WarmTransfer` for blocking code and `AsyncWarmTransfer` for asyncio, with the same operations.

Each operation is written once, in warm_transfer_client.operations, without I/O; `_blocking` and `_awaitable` turn
it into a method of each client, keeping its signature and docstring for people and type checkers (ParamSpec).
What the two clients write each for themselves is only what differs: sending with httpx.Client or
httpx.AsyncClient, and the loop that follows an event stream (a generator or an async generator).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar, get_args

import httpx

from warm_transfer_client import operations
from warm_transfer_client.errors import Unavailable, WarmTransferError
from warm_transfer_client.models import Event
from warm_transfer_client.operations import Call, Endpoint, EventStream, unreachable

P = ParamSpec("P")
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
DEFAULT_URL = "http://127.0.0.1:8000"
USER_AGENT = "warm-transfer-client/0.1.0"
RECONNECTS = 5  # an event stream's failed connections in a row before it gives up


def _like(method: F, operation: Callable[..., Any]) -> F:
    """`method` named, documented and signed as `operation`, with `self` first and the Call's answer returned."""
    signature = inspect.signature(operation, eval_str=True)
    first = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    [answer] = get_args(signature.return_annotation)
    method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[first, *signature.parameters.values()], return_annotation=answer)
    method.__name__ = method.__qualname__ = operation.__name__
    method.__doc__ = operation.__doc__
    return method


def _blocking(operation: Callable[P, Call[T]]) -> Callable[Concatenate[WarmTransfer, P], T]:
    def method(self: WarmTransfer, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._call(operation(*args, **kwargs))

    return _like(method, operation)


def _awaitable(operation: Callable[P, Call[T]]) -> Callable[Concatenate[AsyncWarmTransfer, P], Coroutine[Any, Any, T]]:
    async def method(self: AsyncWarmTransfer, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._call(operation(*args, **kwargs))

    return _like(method, operation)


_EVENTS_DOC = """The transfer's events as they happen (bot lines, status changes, the CSAT request), from after the
        event id `after` (None: from the first). A dropped connection is opened again after the last event received,
        so none is lost or repeated; `reconnects` failures in a row raise the last one. The stream does not end by
        itself: stop when you have what you wait for (a `status_change` that is `final`, say)."""


class WarmTransfer:
    """The Warm Transfer API, for blocking code. Use it as a context manager, or `close()` it.

    `api_key` goes in the Authorization header only. `http_client` is an httpx.Client of your own (proxies,
    certificates, transports); without one, the client makes one with `timeout` seconds per request."""

    def __init__(self, api_key: str, base_url: str = DEFAULT_URL, *, timeout: float = 30.0,
                 http_client: httpx.Client | None = None):
        self._endpoint = Endpoint(base_url, api_key, USER_AGENT)
        self._http = http_client or httpx.Client(timeout=timeout)
        self._owns_http = http_client is None

    def __repr__(self) -> str:
        return f"WarmTransfer({self._endpoint.base_url!r})"

    def _call(self, call: Call[T]) -> T:
        try:
            response = self._http.send(self._endpoint.build(call))
        except httpx.TransportError as err:
            raise unreachable(call, err) from err
        return self._endpoint.read(call, response)

    start = _blocking(operations.start)
    view = _blocking(operations.view)
    prospect = _blocking(operations.prospect)
    rep = _blocking(operations.rep)
    feedback = _blocking(operations.feedback)
    evaluate = _blocking(operations.evaluate)
    request = _blocking(operations.request)

    def events(self, transfer_id: str, *, after: int | None = None, reconnects: int = RECONNECTS) -> Iterator[Event]:
        stream = EventStream(self._endpoint, transfer_id, after, reconnects)
        while True:
            failure: WarmTransferError | httpx.TransportError | None = None
            try:
                response = self._http.send(stream.request(), stream=True)
                try:
                    if response.is_error:
                        response.read()
                    stream.opened(response)
                    for line in response.iter_lines():
                        if (event := stream.feed(line)) is not None:
                            yield event
                finally:
                    response.close()
            except (httpx.TransportError, Unavailable) as err:
                failure = err
            time.sleep(stream.reconnect_delay(failure))

    events.__doc__ = _EVENTS_DOC

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> WarmTransfer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


class AsyncWarmTransfer:
    """The Warm Transfer API, for asyncio. Use it as an async context manager, or `await aclose()`.

    `api_key` goes in the Authorization header only. `http_client` is an httpx.AsyncClient of your own; without
    one, the client makes one with `timeout` seconds per request."""

    def __init__(self, api_key: str, base_url: str = DEFAULT_URL, *, timeout: float = 30.0,
                 http_client: httpx.AsyncClient | None = None):
        self._endpoint = Endpoint(base_url, api_key, USER_AGENT)
        self._http = http_client or httpx.AsyncClient(timeout=timeout)
        self._owns_http = http_client is None

    def __repr__(self) -> str:
        return f"AsyncWarmTransfer({self._endpoint.base_url!r})"

    async def _call(self, call: Call[T]) -> T:
        try:
            response = await self._http.send(self._endpoint.build(call))
        except httpx.TransportError as err:
            raise unreachable(call, err) from err
        return self._endpoint.read(call, response)

    start = _awaitable(operations.start)
    view = _awaitable(operations.view)
    prospect = _awaitable(operations.prospect)
    rep = _awaitable(operations.rep)
    feedback = _awaitable(operations.feedback)
    evaluate = _awaitable(operations.evaluate)
    request = _awaitable(operations.request)

    async def events(self, transfer_id: str, *, after: int | None = None,
                     reconnects: int = RECONNECTS) -> AsyncIterator[Event]:
        stream = EventStream(self._endpoint, transfer_id, after, reconnects)
        while True:
            failure: WarmTransferError | httpx.TransportError | None = None
            try:
                response = await self._http.send(stream.request(), stream=True)
                try:
                    if response.is_error:
                        await response.aread()
                    stream.opened(response)
                    async for line in response.aiter_lines():
                        if (event := stream.feed(line)) is not None:
                            yield event
                finally:
                    await response.aclose()
            except (httpx.TransportError, Unavailable) as err:
                failure = err
            await asyncio.sleep(stream.reconnect_delay(failure))

    events.__doc__ = _EVENTS_DOC

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncWarmTransfer:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self.aclose()
