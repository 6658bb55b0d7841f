"""The transfer's inbox: rep and prospect actions, feedback, queue news and failed deliveries, waiting for the
workflow to act.

An update that passed its validator puts its action in and gets a ticket. The workflow takes actions one at a
time: one it acts on is answered once the workflow waits again (so the caller sees the state its action led
to); one that an earlier input made stale is refused, with the reason, when the workflow takes it. Pure
bookkeeping: the workflow does the waiting.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

Source = Literal["prospect", "rep", "feedback", "queue", "delivery"]


@dataclass
class PendingInput:
    """An action waiting for the workflow to act on it; `ticket` ties it to the update that sent it."""

    ticket: int
    source: Source
    payload: Any


class Inbox:
    def __init__(self) -> None:
        self._waiting: deque[PendingInput] = deque()
        self._tickets = 0
        self._taken: list[int] = []  # acted on since the workflow last waited
        self._answers: dict[int, str | None] = {}  # ticket -> None (done) or the reason it was refused
        self.waits = 0  # how often the workflow has settled and waited: the first answer waits for one

    def put(self, source: Source, payload: Any) -> int:
        self._tickets += 1
        self._waiting.append(PendingInput(self._tickets, source, payload))
        return self._tickets

    def __bool__(self) -> bool:
        return bool(self._waiting)

    def waiting(self, source: Source) -> Iterator[PendingInput]:
        return (item for item in self._waiting if item.source == source)

    def take(self) -> PendingInput:
        """The oldest waiting input; the caller acts on it (`acting_on`) or refuses it."""
        return self._waiting.popleft()

    def acting_on(self, item: PendingInput) -> None:
        self._taken.append(item.ticket)

    def refuse(self, item: PendingInput, reason: str) -> None:
        self._answers[item.ticket] = reason

    def refuse_all(self, reason: str) -> None:
        while self._waiting:
            self.refuse(self._waiting.popleft(), reason)

    def settle(self) -> None:
        """The workflow is about to wait: everything it took is done, so its senders may have their answer."""
        self.waits += 1
        for ticket in self._taken:
            self._answers.setdefault(ticket, None)
        self._taken = []

    def answered(self, ticket: int) -> bool:
        return ticket in self._answers

    def answer(self, ticket: int) -> str | None:
        """None if the action was taken, else why it was refused; each answer is given once."""
        return self._answers.pop(ticket)
