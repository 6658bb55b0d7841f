"""What a transfer records as it goes: its latest facts and its append-only events, which metrics are computed
from. The workflow writes them; the store keeps them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class TransferFacts(BaseModel):
    transfer_id: str
    status: str
    branch: str | None = None
    team: str | None = None
    rep_id: str | None = None
    score: int | None = None
    outcome: str | None = None
    created_at: datetime
    summary: dict = {}


class TransferEvent(BaseModel):
    seq: int
    at: datetime
    status: str
    kind: str
    rep_id: str | None = None
    detail: str
    data: dict = {}
