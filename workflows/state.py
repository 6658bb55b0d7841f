"""Value types a transfer keeps in its state. They live outside workflows/transfer.py and are imported passed
through the sandbox, so they are built once per worker process: a dataclass generates and compiles its
methods when it is defined, and the sandbox runs the workflow's own module afresh for every new run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from domain.view import RepSummary


@dataclass
class FollowUp:
    owner: RepSummary | None  # None: the first rep free when it is due
    due: datetime
    channel: Literal["phone", "email"]
