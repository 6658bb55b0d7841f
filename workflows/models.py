"""The workflows' inputs and outputs: the transfer's, the watchdog's and the daily digest's."""

from __future__ import annotations

from pydantic import BaseModel

from domain.digest import DailyDigest
from domain.requests import TransferRequest
from domain.view import TransferView
from domain.watchdog import StuckTransfer


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
    request_digest: str = ""  # lets a repeated start with a different body, or by another key, be told apart (409)
    # The API key that started the transfer (`api-key:<id>`): a bot key sees and acts on only the transfers it
    # started. Recorded here rather than in the app database because it is part of the transfer from its first
    # event, never changes, and needs no second write that could fail or lag behind the start (the store's row
    # is written by the first publish, after the bot's first answer); the workflow's `view` query and update
    # validators check it, so another key's action is refused without an extra call. None: a transfer started
    # before owners were recorded (a default, so their histories still replay).
    owner: str | None = None
    search_attributes: bool = True  # off only where they cannot be registered: the SDK's time-skipping test server


class TransferResult(BaseModel):
    view: TransferView


class WatchdogResult(BaseModel):
    stuck: list[StuckTransfer] = []  # everything found stuck in this look
    alerted: list[str] = []  # the transfers ops were told of now (the others they heard of lately)
    unchecked: list[str] = []  # kinds of problem this look could not check, and why


class DigestResult(BaseModel):
    digest: DailyDigest
    recipients: int
