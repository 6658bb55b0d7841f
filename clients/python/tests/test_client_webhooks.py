"""Webhook signatures: what the API signs passes; another secret, another body, an old or future signature, or a
malformed header is refused, each with its reason."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from warm_transfer_client import InvalidSignature, UnexpectedAnswer, verify_signature, verify_webhook

SECRET = "whsec-test"
NOW = 1_900_000_000
BODY = json.dumps({"id": 7, "transfer_id": "xfer_1", "kind": "bot_line", "created_at": "2030-03-17T10:00:00Z",
                   "payload": {"transfer_id": "xfer_1", "seq": 1, "kind": "prepare", "text": "Hi", "locale": "en",
                               "choices": ["note", "proceed"]}}, separators=(",", ":")).encode()


def signed(body: bytes = BODY, secret: str = SECRET, at: int = NOW) -> str:
    """The header as the API makes it (integrations/notify/webhooks.py: HMAC-SHA256 of "<t>.<body>")."""
    return f"t={at},v1={hmac.new(secret.encode(), f'{at}.'.encode() + body, hashlib.sha256).hexdigest()}"


def refusal(header: str | None, body: bytes | str = BODY, secret: str = SECRET, **options: float) -> str:
    with pytest.raises(InvalidSignature) as refused:
        verify_signature(secret, header, body, now=options.pop("now", NOW), **options)
    return refused.value.reason


def test_a_valid_signature_passes_and_gives_the_event() -> None:
    verify_signature(SECRET, signed(), BODY, now=NOW)
    verify_signature(SECRET, signed(), BODY.decode(), now=NOW + 299)  # the body as text, within the tolerance
    event = verify_webhook(SECRET, signed(), BODY, now=NOW)
    assert (event.id, event.transfer_id, event.kind) == (7, "xfer_1", "bot_line")
    assert event.bot_line is not None and event.bot_line.choices == ["note", "proceed"]
    assert event.status_change is None


def test_a_wrong_secret_or_a_changed_body_is_refused() -> None:
    assert refusal(signed(secret="another")) == "no signature matches this body and secret"
    assert refusal(signed(), BODY.replace(b"Hi", b"Ho")) == "no signature matches this body and secret"
    with pytest.raises(InvalidSignature):
        verify_webhook("another", signed(), BODY, now=NOW)


def test_a_stale_or_future_signature_is_refused() -> None:
    assert "ago, beyond the tolerance of 300 s" in refusal(signed(), now=NOW + 301)  # replayed later
    assert "ahead" in refusal(signed(), now=NOW - 301)
    assert "beyond the tolerance of 60 s" in refusal(signed(), now=NOW + 61, tolerance_seconds=60)
    verify_signature(SECRET, signed(), BODY, now=NOW + 3000, tolerance_seconds=3600)


@pytest.mark.parametrize("header", [
    None, "", "v1=abc", "t=1900000000", "t=soon,v1=abc", "t=1900000000,t=1900000000,v1=abc", "t=1900000000,v1=",
    "garbage", "t=-5,v1=abc",
])
def test_a_malformed_header_is_refused(header: str | None) -> None:
    assert refusal(header) in ("no signature header", "malformed header: want t=<unix seconds>,v1=<hex>")


def test_any_character_in_the_signature_is_a_refusal_not_a_crash() -> None:
    assert refusal(f"t={NOW},v1=ünïcödé") == "no signature matches this body and secret"


def test_during_a_secret_rotation_either_signature_passes() -> None:
    both = f"{signed(secret='old')},v1={signed(secret='new').split('v1=')[1]}"
    verify_signature("old", both, BODY, now=NOW)
    verify_signature("new", both, BODY, now=NOW)
    assert refusal(both, secret="neither") == "no signature matches this body and secret"


def test_a_signed_body_that_is_no_event_is_unexpected_and_its_values_are_not_repeated() -> None:
    with pytest.raises(UnexpectedAnswer, match="not JSON|body: "):
        verify_webhook(SECRET, signed(b"[]"), b"[]", now=NOW)
    odd = b'{"id": "John Smith", "kind": "status", "payload": {}}'
    with pytest.raises(UnexpectedAnswer) as unexpected:
        verify_webhook(SECRET, signed(odd), odd, now=NOW)
    assert str(unexpected.value).startswith("a signed webhook's body is not what the API documents: id: ")
    assert "John" not in str(unexpected.value)
