"""One activity per workflow step that makes the step known: record, notify, schedule, log to the CRM, and
give up the transfer's seat or queue place when the step does.

Each write is idempotent on its key (and a release on the transfer), so a retried or replayed step never sends
a message twice.
"""

from __future__ import annotations

from datetime import datetime

from opentelemetry import trace
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.models import CrmNote, PublishInput, Released
from activities.routing import release_place
from domain.notices import Notice
from domain.scripts import RepAlert, alert_chat, alert_email
from integrations.calendar.base import Calendar
from integrations.crm.base import CRM, CrmUnavailable
from integrations.notify.base import DeliveryError, Notifier
from store.capacity import CapacityStore
from store.reps import RepStore
from store.transfers import TransferStore


class PublishActivities:
    def __init__(self, transfers: TransferStore, notifier: Notifier, calendar: Calendar, crm: CRM, reps: RepStore,
                 capacity: CapacityStore, email_alerts: bool = False, chat_channel: str | None = None,
                 console_url: str | None = None):
        self.transfers, self.notifier, self.calendar, self.crm, self.reps = transfers, notifier, calendar, crm, reps
        self.capacity = capacity
        self.email_alerts, self.chat_channel, self.console_url = email_alerts, chat_channel, console_url

    @activity.defn(name="publish")
    def publish(self, inp: PublishInput) -> Released | None:
        """Released (who to wake) when the step gave up the transfer's place, else None."""
        released = release_place(self.reps, self.capacity, inp.release) if inp.release is not None else None
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
            self._note_in_crm(transfer_id, note, now)
        if inp.notices:
            # With tracing on, the step's span says what it made known (kinds only), e.g. the rep's alert.
            trace.get_current_span().set_attribute("warm_transfer.notices",
                                                   [f"{n.audience}:{n.kind}" for n in inp.notices])
            notices = [self._on_every_channel(n) for n in inp.notices]
            try:
                self.notifier.publish(notices)
            except DeliveryError as exc:
                raise ApplicationError(str(exc), type="DeliveryError") from exc
        return released

    def _note_in_crm(self, transfer_id: str, note: CrmNote, now: datetime) -> None:
        """File a note in the CRM. A CRM that is down does not hold up the step (a retried publish would keep the
        rep's seat taken for as long as the CRM is down): the note is left out, and the log says which."""
        try:
            filed = self.crm.log_activity(key=note.key, prospect=note.prospect, kind=note.kind, text=note.text, at=now)
        except CrmUnavailable as err:
            activity.logger.warning("transfer %s: %s not filed in the CRM: %s", transfer_id, note.kind, err)
            return
        if not filed:
            activity.logger.info("transfer %s: no CRM account to file %s under", transfer_id, note.kind)

    def _on_every_channel(self, notice: Notice) -> Notice:
        """A rep alert also goes by e-mail and to the chat channel when they are set up, in the words of the
        console card."""
        if notice.audience != "rep" or "alert" not in notice.payload or notice.rep_id is None:
            return notice
        alert = RepAlert.model_validate(notice.payload["alert"])
        update, payload = {}, dict(notice.payload)
        email = self.reps.get(notice.rep_id).profile.email if self.email_alerts else None
        if email is not None:
            update["email_to"] = email
            payload["subject"], payload["body"] = alert_email(alert, self.console_url)
        if self.chat_channel is not None:
            update["chat_to"] = self.chat_channel
            payload["chat_text"] = alert_chat(alert, self.console_url)
        return notice.model_copy(update={**update, "payload": payload}) if update else notice

    def all(self) -> list:
        return [self.publish]
