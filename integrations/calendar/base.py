"""Calendar interface: follow-up tasks (callbacks, "confirm the connection was made") on a rep's calendar."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from pydantic import AwareDatetime, BaseModel


class CalendarTask(BaseModel):
    id: int
    key: str
    rep_id: str
    transfer_id: str
    due_at: AwareDatetime
    title: str
    description: str
    done: bool


class TaskNotFound(LookupError):
    """No task has this key."""


class Calendar(ABC):
    @abstractmethod
    def create_task(
        self, key: str, rep_id: str, transfer_id: str, due_at: datetime, title: str, description: str
    ) -> CalendarTask:
        """Put a task on the rep's calendar. Idempotent on `key`: a repeat returns the task made first."""

    @abstractmethod
    def complete(self, key: str) -> CalendarTask:
        """Mark the task done (again is fine); raises TaskNotFound for an unknown key."""

    @abstractmethod
    def tasks_for(self, rep_id: str, include_done: bool = False) -> list[CalendarTask]:
        """The rep's tasks, soonest first."""
