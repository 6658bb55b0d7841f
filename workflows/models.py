"""The transfer workflow's input and output."""

from __future__ import annotations

from pydantic import BaseModel

from domain.requests import TransferRequest
from domain.view import TransferView


class Timings(BaseModel):
    """Seconds, from configuration at start: a running transfer keeps the timings it started with."""

    offer: int = 30
    ack: int = 60
    prepare: int = 120
    choice: int = 600
    queue_recheck: int = 120
    recovery_minutes: int = 15
    feedback_wait: int = 7 * 86400


class TransferInput(BaseModel):
    request: TransferRequest
    timings: Timings = Timings()
    request_digest: str = ""  # lets a repeated start with a different body be told apart (409)
    search_attributes: bool = True  # off only where they cannot be registered: the SDK's time-skipping test server


class TransferResult(BaseModel):
    view: TransferView
