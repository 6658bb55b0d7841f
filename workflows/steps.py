"""What a transfer's current step makes known, gathered as the step runs and published together when it ends.

A step's timeline events, notices, calendar tasks (put, moved, closed), CRM notes and feedback go out in one
idempotent activity (activities.publish), so a retried step never sends twice. Pure bookkeeping: the workflow runs
the activity.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from activities.models import CrmNote, FeedbackRecord, PublishInput, ReleaseInput, TaskClose, TaskRequest
from domain.lifecycle import Status
from domain.notices import Audience, Notice
from domain.records import TransferEvent, TransferFacts
from domain.view import TimelineEntry

MAX_DETAIL = 2000  # characters of an event's detail that are stored


class StepRecord:
    def __init__(self, transfer_id: str, bot_callback_url: str | None) -> None:
        self.transfer_id = transfer_id
        self.bot_callback_url = bot_callback_url
        self.timeline: list[TimelineEntry] = []  # the whole transfer's, as the view shows it
        self.batches = 0  # published so far
        self._notices_made = 0  # numbers the notices that have no key of their own
        self._events: list[TransferEvent] = []
        self._notices: list[Notice] = []
        self._tasks: list[TaskRequest] = []
        self._task_closes: list[TaskClose] = []
        self._crm_notes: list[CrmNote] = []
        self._feedback: list[FeedbackRecord] = []

    def log(self, at: datetime, status: Status, kind: str, detail: str, rep_id: str | None = None,
            data: dict | None = None) -> None:
        self.timeline.append(TimelineEntry(at=at, status=status, detail=detail, kind=kind))
        self._events.append(TransferEvent(seq=len(self.timeline), at=at, status=status, kind=kind, rep_id=rep_id,
                                          detail=detail[:MAX_DETAIL], data=data or {}))

    def notify(self, audience: Audience, kind: str, payload: dict[str, Any], rep_id: str | None = None,
               email_to: str | None = None, key: str | None = None) -> str:
        """Adds a notice to the step's batch; returns its key."""
        self._notices_made += 1
        key = key or f"n-{self._notices_made}"
        self._notices.append(Notice(
            key=key,
            transfer_id=self.transfer_id,
            audience=audience,
            rep_id=rep_id,
            kind=kind,
            payload={"transfer_id": self.transfer_id, **payload},
            callback_url=self.bot_callback_url if audience == "bot" else None,
            email_to=email_to,
        ))
        return key

    def schedule(self, task: TaskRequest) -> None:
        self._tasks.append(task)

    def close_task(self, close: TaskClose) -> None:
        self._task_closes.append(close)

    def note_in_crm(self, note: CrmNote) -> None:
        self._crm_notes.append(note)

    def keep_feedback(self, record: FeedbackRecord) -> None:
        self._feedback.append(record)

    def take(self, now: datetime, facts: TransferFacts, release: bool) -> PublishInput | None:
        """The step's batch (None if there is nothing to publish), and a fresh start for the next step."""
        if not (release or self._events or self._notices or self._tasks or self._task_closes or self._crm_notes
                or self._feedback):
            return None
        batch = PublishInput(
            now=now,
            facts=facts,
            events=self._events,
            notices=self._notices,
            tasks=self._tasks,
            task_closes=self._task_closes,
            crm_notes=self._crm_notes,
            feedback=self._feedback,
            release=ReleaseInput(now=now, transfer_id=self.transfer_id) if release else None,
        )
        self._events, self._notices, self._crm_notes, self._feedback = [], [], [], []
        self._tasks, self._task_closes = [], []
        self.batches += 1
        return batch
