"""Signed webhooks to the bot's callback URL.

Each request is a POST with a JSON body `{"id", "transfer_id", "kind", "payload", "created_at"}` and
the headers

    X-WT-Event-Id:  <outbox id>   (the same on every retry: use it to drop duplicates)
    X-WT-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

A bot checks a request with the bots' client (clients/python): `warm_transfer_client.verify_webhook(secret,
request.headers["X-WT-Signature"], raw_body)` gives the event once the signature passes; the bot answers 2xx once it
has the event. Anything else is retried with
exponential backoff (1 s, 2 s, 4 s ... at most 5 minutes apart) until `max_attempts`, as is an answer that takes
longer than `timeout` in all (integrations.http) or is over 64 KiB. A callback URL that the destination rules
refuse (integrations.notify.destinations) fails for good at once: retrying cannot change it.
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

from integrations import http
from integrations.notify.base import DeliveryError
from integrations.notify.destinations import CallbackPolicy, RefusedDestination
from integrations.notify.dispatch import OutboxDispatcher
from store.db import Database
from store.outbox import PendingDelivery


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-WT-Signature header value for `body` sent at `timestamp` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


ANSWER_LIMIT = 64 * 2**10  # bytes of the bot's answer read: its status is what counts


class WebhookDispatcher(OutboxDispatcher):
    channel = "webhook"

    def __init__(
        self,
        db: Database,
        secret: str,
        max_attempts: int = 8,
        *,
        destinations: CallbackPolicy | None = None,
        timeout: float = 10.0,
        batch_size: int = 20,
        lease: timedelta = timedelta(minutes=5),
        concurrency: int = 8,
    ):
        if not secret:
            raise ValueError("a webhook secret is required: bots cannot trust unsigned events")
        super().__init__(db, max_attempts=max_attempts, batch_size=batch_size, lease=lease, concurrency=concurrency)
        self.secret = secret
        self.destinations, self.timeout = destinations or CallbackPolicy(), timeout
        # A short timeout keeps a batch well inside the lease; redirects are not followed so a
        # signed event never lands somewhere the bot did not register.
        self.client = http.client(backend=_CheckedBackend(self.destinations), follow_redirects=False)

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
            response = http.exchange(self.client, "POST", self.destinations.check_url(delivery.callback_url),
                                     timeout=self.timeout, limit=ANSWER_LIMIT, content=body, headers=headers)
        except RefusedDestination as exc:
            raise DeliveryError(f"refused: the callback_url {exc}", retryable=False) from exc
        except httpx.TimeoutException as exc:
            raise DeliveryError(f"the callback_url did not answer within {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        except http.AnswerTooLarge as exc:
            raise DeliveryError(f"the callback_url answered with {exc}") from None
        if not response.is_success:
            raise DeliveryError(f"HTTP {response.status_code}")

    def close(self) -> None:
        self.client.close()


class _CheckedBackend(httpcore.SyncBackend):
    """Opens connections only to addresses the destination rules allow, checked as the connection is made, and
    to the very address checked: a name that resolved to a public address for the check cannot resolve to another
    for the connection. TLS is still verified against the URL's host name (httpcore passes it to start_tls).
    tests/integrations/test_webhooks.py fails if it is bypassed."""

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
