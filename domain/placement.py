"""Where a transfer stands with the reps and the queue, and what a capacity decision changed for other
transfers. The store decides; the workflow reads the answer."""

from __future__ import annotations

from pydantic import BaseModel


class Assignment(BaseModel):
    transfer_id: str
    rep_id: str


class QueueChange(BaseModel):
    """What a capacity decision changed for other transfers, so they can be told at once."""

    handed_over: list[Assignment] = []  # transfers this decision gave a seat to
    moved: list[str] = []  # transfers still waiting whose place in the queue changed

    def to_wake(self, besides: str | None = None) -> list[str]:
        ids = [a.transfer_id for a in self.handed_over] + self.moved
        return [t for t in dict.fromkeys(ids) if t != besides]


class Placement(QueueChange):
    """Where a transfer stands: holding a seat with a rep, or waiting at a place in the queue."""

    rep_id: str | None = None
    position: int | None = None
    seats_on_shift: int = 0
