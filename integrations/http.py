"""Outbound HTTP for the adapters that call out from a thread (HubSpot, CalDAV, Slack, webhooks): each call has one
deadline for the whole exchange and a cap on the size of the answer.

httpx's `timeout` bounds each read, not the call: a server that sends its headers, then a byte every few seconds,
holds a call, and its thread, for as long as it likes; and an answer read whole can be any size. So `exchange`
streams the answer and stops at its `limit`, and the connections of a `client()` give each connect, TLS handshake,
write and read only the time left before the call's deadline: when it passes, the step waiting fails with httpx's
timeout, and the connection is closed.
"""

from __future__ import annotations

import json
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

WRITE_PIECE = 8192  # bytes written at a time, each piece given the time then left
_deadline: ContextVar[float | None] = ContextVar("deadline", default=None)  # time.monotonic() the call must end by


class AnswerTooLarge(Exception):
    """The answer's body is larger than the call allows; the rest of it was not read."""

    def __init__(self, limit: int):
        size = f"{limit / 2**20:g} MiB" if limit >= 2**20 else f"{limit / 2**10:g} KiB"
        super().__init__(f"more than {size}")


@dataclass(frozen=True)
class Answer:
    """A server's answer, its body read whole (the names are httpx.Response's, which it stands in for)."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    def json(self) -> Any:
        return json.loads(self.content)


def client(*, backend: httpcore.NetworkBackend | None = None, **options: Any) -> httpx.Client:
    """An httpx client (`options` as httpx.Client takes them) whose connections keep `exchange`'s deadline, opened by
    `backend` (the system's sockets by default). They go directly: a proxy named in the environment is not used, as
    its connection would not keep the deadline."""
    return httpx.Client(transport=_Transport(backend or httpcore.SyncBackend()), trust_env=False, **options)


def exchange(http: httpx.Client, method: str, url: str, *, timeout: float, limit: int, **request: Any) -> Answer:
    """`http`'s request (`request` as httpx.Client.request takes it), and the answer read whole, in `timeout` seconds
    from connecting to its last byte (else httpx.TimeoutException) and at most `limit` bytes of body (else
    AnswerTooLarge)."""
    token = _deadline.set(time.monotonic() + timeout)
    try:
        with http.stream(method, url, timeout=timeout, **request) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > limit:
                    raise AnswerTooLarge(limit)
            return Answer(response.status_code, response.headers, bytes(body))
    finally:
        _deadline.reset(token)


def _left(timeout: float | None, expired: type[httpcore.TimeoutException]) -> float | None:
    """`timeout` cut to the time left before the call's deadline; `expired` if there is none left."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the call's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream):
        self.stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.stream.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        # A socket write that only part fits in is retried with the same timeout: a piece at a time keeps it short.
        for start in range(0, len(buffer), WRITE_PIECE):
            self.stream.write(buffer[start:start + WRITE_PIECE], _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        # Python's TLS handshake keeps its timeout for the whole handshake, not for each read.
        return _DeadlineStream(self.stream.start_tls(ssl_context, server_hostname,
                                                     _left(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self.stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, backend: httpcore.NetworkBackend):
        self.backend = backend

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self.backend.connect_tcp(host, port, _left(timeout, httpcore.ConnectTimeout),
                                                        local_address, socket_options))

    def sleep(self, seconds: float) -> None:
        self.backend.sleep(seconds)


class _Transport(httpx.HTTPTransport):
    """httpx's transport over a pool that connects through a _DeadlineBackend. httpx has no option for its pool's
    network backend, so the pool is made here as httpx makes it, with httpcore's `network_backend`."""

    def __init__(self, backend: httpcore.NetworkBackend):
        super().__init__(trust_env=False)
        if not isinstance(getattr(self, "_pool", None), httpcore.ConnectionPool):  # an httpx that keeps it elsewhere
            raise RuntimeError("this httpx keeps its connection pool elsewhere: calls out would lose their deadline")
        limits = httpx.Limits()  # httpx's defaults
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(), max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            network_backend=_DeadlineBackend(backend))
