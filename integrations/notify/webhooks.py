"""Signed webhooks to the bot's callback URL.

Each request is a POST with a JSON body `{"id", "transfer_id", "kind", "payload", "created_at"}` and
the headers

    X-WT-Event-Id:  <outbox id>   (the same on every retry: use it to drop duplicates)
    X-WT-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

A bot checks a request with the bots' client (clients/python): `warm_transfer_client.verify_webhook(secret,
request.headers["X-WT-Signature"], raw_body)` gives the event once the signature passes; the bot answers 2xx once it
has the event. Anything else is retried with
exponential backoff (1 s, 2 s, 4 s ... at most 5 minutes apart) until `max_attempts`. A callback URL that the
destination rules refuse (integrations.notify.destinations) fails for good at once: retrying cannot change it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from collections.abc import Iterable
from datetime import datetime, timedelta

import httpcore
import httpx

from integrations.notify.base import DeliveryError
from integrations.notify.destinations import CallbackPolicy, RefusedDestination
from integrations.notify.dispatch import OutboxDispatcher
from store.db import Database
from store.outbox import PendingDelivery


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-WT-Signature header value for `body` sent at `timestamp` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"



DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class WebhookDispatcher(OutboxDispatcher):
    channel = "webhook"

    def __init__(
        self,
        db: Database,
        secret: str,
        max_attempts: int = 8,
        *,
        destinations: CallbackPolicy | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        batch_size: int = 20,
        lease: timedelta = timedelta(minutes=5),
        concurrency: int = 8,
    ):
        if not secret:
            raise ValueError("a webhook secret is required: bots cannot trust unsigned events")
        super().__init__(db, max_attempts=max_attempts, batch_size=batch_size, lease=lease, concurrency=concurrency)
        self.secret = secret
        self.destinations = destinations or CallbackPolicy()
        # Short timeouts keep a batch well inside the lease; redirects are not followed so a
        # signed event never lands somewhere the bot did not register.
        self.client = httpx.Client(transport=_CheckedTransport(self.destinations), timeout=timeout,
                                   follow_redirects=False)

    def send(self, delivery: PendingDelivery, now: datetime) -> None:
        row = delivery.row
        body = json.dumps(
            {
                "id": row.id,
                "transfer_id": row.transfer_id,
                "kind": row.kind,
                "payload": row.payload,
                "created_at": row.created_at.isoformat(),
            },
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "X-WT-Event-Id": str(row.id),
            "X-WT-Signature": sign(self.secret, int(now.timestamp()), body),
        }
        try:
            response = self.client.post(self.destinations.check_url(delivery.callback_url), content=body,
                                        headers=headers)
        except RefusedDestination as exc:
            raise DeliveryError(f"refused: the callback_url {exc}", retryable=False) from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if not response.is_success:
            raise DeliveryError(f"HTTP {response.status_code}")

    def close(self) -> None:
        self.client.close()


class _CheckedBackend(httpcore.SyncBackend):
    """Opens connections only to addresses the destination rules allow, checked as the connection is made, and
    to the very address checked: a name that resolved to a public address for the check cannot resolve to another
    for the connection. TLS is still verified against the URL's host name (httpcore passes it to start_tls)."""

    def __init__(self, destinations: CallbackPolicy):
        self.destinations = destinations

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable | None = None) -> httpcore.NetworkStream:
        try:
            addresses = self.destinations.checked_addresses(host, port)
        except socket.gaierror as exc:  # the name may resolve later: a failure worth retrying
            raise httpcore.ConnectError(f"{host} does not resolve: {exc}") from exc
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return super().connect_tcp(str(address), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure


class _CheckedTransport(httpx.HTTPTransport):
    """httpx's transport over a connection pool that connects through _CheckedBackend. httpx has no option for its
    pool's network backend, so the pool is made here as httpx makes it, with httpcore's `network_backend`; there is
    no proxy, or the proxy would choose the address. tests/integrations/test_webhooks.py fails if the backend is
    bypassed."""

    def __init__(self, destinations: CallbackPolicy):
        super().__init__(trust_env=False)
        limits = httpx.Limits()  # httpx's defaults
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(), max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            network_backend=_CheckedBackend(destinations))
