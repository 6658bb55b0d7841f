"""One activity per workflow step that makes the step known: record, notify, schedule, log to the CRM.

Each write is idempotent on its key, so a retried or replayed step never sends a message twice.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.models import PublishInput
from integrations.calendar.base import Calendar
from integrations.crm.base import CRM
from integrations.notify.base import DeliveryError, Notifier
from store.transfers import TransferStore


class PublishActivities:
    def __init__(self, transfers: TransferStore, notifier: Notifier, calendar: Calendar, crm: CRM):
        self.transfers, self.notifier, self.calendar, self.crm = transfers, notifier, calendar, crm

    @activity.defn(name="publish")
    def publish(self, inp: PublishInput) -> None:
        now = inp.now
        transfer_id = inp.facts.transfer_id
        self.transfers.record(inp.facts, inp.events, now)
        for record in inp.feedback:
            self.transfers.save_feedback(transfer_id, record.source, record.rep_id, record.data, now)
        for task in inp.tasks:
            self.calendar.create_task(
                key=task.key,
                rep_id=task.rep_id,
                transfer_id=transfer_id,
                due_at=task.due_at,
                title=task.title,
                description=task.description,
            )
        for note in inp.crm_notes:
            self.crm.log_activity(key=note.key, prospect=note.prospect, kind=note.kind, text=note.text, at=now)
        if inp.notices:
            try:
                self.notifier.publish(inp.notices)
            except DeliveryError as exc:
                raise ApplicationError(str(exc), type="DeliveryError") from exc

    def all(self) -> list:
        return [self.publish]
