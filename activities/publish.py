"""One activity per workflow step that makes the step known: record, notify, schedule, log to the CRM, and
give up the transfer's seat or queue place when the step does.

Each write is idempotent on its key (and a release on the transfer), so a retried or replayed step never sends
a message twice.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.models import CrmNote, PublishInput, Released
from activities.routing import release_place
from domain.context import usable_email
from domain.notices import Notice
from domain.scripts import RepAlert, alert_chat, alert_email
from domain.scripts.follow_up import invitation_summary
from integrations.calendar.base import Calendar, CalendarTask, TaskNotFound
from integrations.calendar.ics import Party, invitation
from integrations.crm.base import CRM, CrmUnavailable
from integrations.notify.base import DeliveryError, Notifier
from store.capacity import CapacityStore
from store.crm_notes import PendingCrmNotes
from store.reps import RepStore
from store.transfers import TransferStore


class PublishActivities:
    def __init__(self, transfers: TransferStore, notifier: Notifier, calendar: Calendar, crm: CRM, reps: RepStore,
                 capacity: CapacityStore, crm_notes: PendingCrmNotes, email_alerts: bool = False,
                 chat_channel: str | None = None, console_url: str | None = None):
        self.transfers, self.notifier, self.calendar, self.crm, self.reps = transfers, notifier, calendar, crm, reps
        self.capacity, self.crm_notes = capacity, crm_notes
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
        scheduled = {task.key: self.calendar.schedule(task.key, task.rep_id, transfer_id, task.kind, task.due_at,
                                                      task.title, task.description, now) for task in inp.tasks}
        for close in inp.task_closes:
            try:
                self.calendar.close(close.key, close.cancelled, now)
            except TaskNotFound:  # nothing to close; a step must not be retried for it
                activity.logger.warning("transfer %s: no calendar task %s to close", transfer_id, close.key)
        for note in inp.crm_notes:
            self._note_in_crm(transfer_id, note, now)
        if inp.notices:
            notices = [self._with_invitation(self._on_every_channel(self._to_usable_address(n, transfer_id)),
                                             scheduled, now) for n in inp.notices]
            try:
                self.notifier.publish(notices)
            except DeliveryError as exc:
                raise ApplicationError(str(exc), type="DeliveryError") from exc
        return released

    def _note_in_crm(self, transfer_id: str, note: CrmNote, now: datetime) -> None:
        """File a note in the CRM. A CRM that is down does not hold up the step (a retried publish would keep the
        rep's seat taken for as long as the CRM is down): the note waits in `crm_note_pending`, retried until the
        CRM takes it (integrations/crm/retry.py)."""
        try:
            filed = self.crm.log_activity(key=note.key, prospect=note.prospect, kind=note.kind, text=note.text, at=now)
        except CrmUnavailable as err:
            self.crm_notes.add(transfer_id, note.key, note.prospect, note.kind, note.text, now, error=str(err))
            activity.logger.warning("transfer %s: %s not filed in the CRM yet, retried until it is: %s", transfer_id,
                                    note.kind, err)
            return
        if not filed:
            activity.logger.info("transfer %s: no CRM account to file %s under", transfer_id, note.kind)

    @staticmethod
    def _to_usable_address(notice: Notice, transfer_id: str) -> Notice:
        """A prospect's address that mail cannot go to (the bot passed a typo) is not written to: the notice goes
        on its other channels, and the view's `collect` asks for contact info again."""
        if notice.email_to is None or notice.audience != "prospect" or usable_email(notice.email_to):
            return notice
        activity.logger.warning("transfer %s: the prospect's e-mail address is not valid: no %s e-mail sent",
                                transfer_id, notice.kind)
        return notice.model_copy(update={"email_to": None})

    def _on_every_channel(self, notice: Notice) -> Notice:
        """A rep alert also goes by e-mail and to the chat channel when they are set up, in the words of the
        console card."""
        if notice.audience != "rep" or "alert" not in notice.payload or notice.rep_id is None:
            return notice
        alert = RepAlert.model_validate(notice.payload["alert"])
        update, payload = {}, dict(notice.payload)
        rep = self.reps.get(notice.rep_id).profile if self.email_alerts else None
        if rep is not None and rep.email is not None:
            update["email_to"] = rep.email
            payload["subject"], payload["body"] = alert_email(alert, self.console_url)
            payload["to_name"] = rep.name
        if self.chat_channel is not None:
            update["chat_to"] = self.chat_channel
            payload["chat_text"] = alert_chat(alert, self.console_url)
        return notice.model_copy(update={**update, "payload": payload}) if update else notice

    def _with_invitation(self, notice: Notice, scheduled: dict[str, CalendarTask], now: datetime) -> Notice:
        """A callback's confirmation e-mail (when e-mail is set up) carries an invitation to the call from its
        owner, when the owner has an e-mail address to be its organiser."""
        task = scheduled.get(notice.payload.get("invitation_task"))
        if task is None or notice.email_to is None or not self.email_alerts:
            return notice
        owner = self.reps.get(task.rep_id).profile
        if owner.email is None:
            return notice
        ics = invitation(task, invitation_summary(owner.name), Party(owner.name, owner.email),
                         Party(notice.payload.get("to_name"), notice.email_to), now)
        return notice.model_copy(update={"payload": {**notice.payload, "calendar": ics}})

    def all(self) -> list:
        return [self.publish]
