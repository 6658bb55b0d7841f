"""Calendar interface: follow-ups (callbacks, e-mails to write, after-hours follow-ups) on their owner's calendar,
moved when the follow-up moves and closed when it is done or called off."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from pydantic import AwareDatetime, BaseModel

from domain.lifecycle import FollowUpKind


class CalendarTask(BaseModel):
    id: int
    key: str
    rep_id: str
    transfer_id: str
    kind: FollowUpKind
    due_at: AwareDatetime
    title: str
    description: str
    sequence: int  # how often it changed since it was made (iCalendar's SEQUENCE): moved, done or called off
    done: bool  # closed: nothing is left to do, so it leaves the rep's feed
    cancelled: bool  # closed because the follow-up was called off, not carried out
    completed_at: AwareDatetime | None = None


class TaskNotFound(LookupError):
    """No task has this key."""


class Calendar(ABC):
    @abstractmethod
    def schedule(self, key: str, rep_id: str, transfer_id: str, kind: FollowUpKind, due_at: datetime, title: str,
                 description: str, now: datetime) -> CalendarTask:
        """Put the follow-up on the rep's calendar, or move it there if `key` is on it already: its due time, title
        and description become these, and its sequence goes up by one. The same again changes nothing (a retried
        step); a closed task stays closed."""

    @abstractmethod
    def close(self, key: str, cancelled: bool, now: datetime) -> CalendarTask:
        """The follow-up took place (`cancelled` False) or was called off; closing again changes nothing. Raises
        TaskNotFound for an unknown key."""

    @abstractmethod
    def tasks_for(self, rep_id: str, include_done: bool = False) -> list[CalendarTask]:
        """The rep's tasks, soonest first."""
