"""Webhooks: check that a request to the bot's callback_url comes from the API, then read its event.

The API signs each webhook's raw body:
`X-WT-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, and sends `X-WT-Event-Id`, the
same on every retry (delivery is at least once: drop an id already handled).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from pydantic import ValidationError

from warm_transfer_client.errors import InvalidSignature, UnexpectedAnswer
from warm_transfer_client.models import Event

SIGNATURE_HEADER = "X-WT-Signature"
TOLERANCE_SECONDS = 300


def verify_signature(secret: str, header: str | None, body: bytes | str, *,
                     tolerance_seconds: float = TOLERANCE_SECONDS, now: float | None = None) -> None:
    """Raises InvalidSignature unless `header` (X-WT-Signature) signs exactly `body` with `secret` and was made
    within `tolerance_seconds` of `now` (unix seconds; default: the clock), which stops a captured request from being
    replayed later. Pass the raw body as received, not JSON parsed and dumped again: any byte of difference fails.
    Several `v1=` values are accepted, so the API's secret can be rotated without downtime."""
    if not header:
        raise InvalidSignature("no signature header")
    fields = [part.strip().partition("=") for part in header.split(",")]
    timestamps = [value for name, _, value in fields if name == "t"]
    signatures = [value for name, _, value in fields if name == "v1" and value]
    if len(timestamps) != 1 or not timestamps[0].isdigit() or not signatures:
        raise InvalidSignature("malformed header: want t=<unix seconds>,v1=<hex>")
    age = (time.time() if now is None else now) - int(timestamps[0])
    if abs(age) > tolerance_seconds:
        raise InvalidSignature(f"signed {abs(age):.0f} s {'ago' if age > 0 else 'ahead'}, beyond the tolerance of "
                               f"{tolerance_seconds:.0f} s")
    raw = body.encode() if isinstance(body, str) else body
    expected = hmac.new(secret.encode(), timestamps[0].encode() + b"." + raw, hashlib.sha256).hexdigest().encode()
    # Every value compared in constant time (as bytes: a header may hold any character), none skipped.
    matched = False
    for signature in signatures:
        matched |= hmac.compare_digest(expected, signature.encode())
    if not matched:
        raise InvalidSignature("no signature matches this body and secret")


def verify_webhook(secret: str, header: str | None, body: bytes | str, *,
                   tolerance_seconds: float = TOLERANCE_SECONDS, now: float | None = None) -> Event:
    """The webhook's event (`id`, `transfer_id`, `kind`, `payload`, `created_at`), once `verify_signature` passed."""
    verify_signature(secret, header, body, tolerance_seconds=tolerance_seconds, now=now)
    try:
        return Event.model_validate_json(body)
    except ValidationError as err:
        raise UnexpectedAnswer("a signed webhook's body", err) from err
