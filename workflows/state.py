"""Value types a transfer keeps in its state. They live outside workflows/transfer.py and are imported passed
through the sandbox, so they are built once per worker process: a dataclass generates and compiles its
methods when it is defined, and the sandbox runs the workflow's own module afresh for every new run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.view import RepSummary


@dataclass
class PendingInput:
    """An action waiting for the workflow to act on it; `ticket` ties it to the update that sent it."""

    ticket: int
    source: str  # prospect | rep | feedback | queue
    payload: Any


@dataclass
class FollowUp:
    owner: RepSummary | None
    due: datetime
    channel: str  # phone | email
