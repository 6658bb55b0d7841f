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
from domain.context import usable_email
from domain.notices import Notice
from domain.reps import RepProfile
from domain.scripts import RepAlert, alert_email
from domain.scripts.follow_up import invitation_summary
from integrations.calendar.base import Calendar, CalendarTask, TaskNotFound
from integrations.calendar.ics import Party, invitation
from integrations.crm.base import CRM, CrmUnavailable
from integrations.notify.base import DeliveryError, Notifier
from integrations.notify.slack import alert_message, closed_message
from store.capacity import CapacityStore
from store.crm_notes import PendingCrmNotes
from store.reps import RepStore
from store.transfers import TransferStore

OFFER_KINDS = ("offer", "follow_up_due")  # rep alerts that are offers, which the rep answers


class PublishActivities:
    def __init__(self, transfers: TransferStore, notifier: Notifier, calendar: Calendar, crm: CRM, reps: RepStore,
                 capacity: CapacityStore, crm_notes: PendingCrmNotes, email_alerts: bool = False,
                 chat_alerts: bool = False, chat_channel: str | None = None, console_url: str | None = None):
        self.transfers, self.notifier, self.calendar, self.crm, self.reps = transfers, notifier, calendar, crm, reps
        self.capacity, self.crm_notes = capacity, crm_notes
        self.email_alerts, self.console_url = email_alerts, console_url
        self.chat_alerts, self.chat_channel = chat_alerts, chat_channel  # the channel: for reps not in Slack by id

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
            # With tracing on, the step's span says what it made known (kinds only), e.g. the rep's alert.
            trace.get_current_span().set_attribute("warm_transfer.notices",
                                                   [f"{n.audience}:{n.kind}" for n in inp.notices])
            notices = [self._with_invitation(self._on_every_channel(self._to_usable_address(n, transfer_id), now),
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

    def _on_every_channel(self, notice: Notice, now: datetime) -> Notice:
        """A rep alert also goes by e-mail, and to Slack (the rep's direct messages, else the team channel), when
        they are set up, in the words of the console card; the end of an offer edits its card in Slack."""
        slack_edit = notice.kind == "offer_closed" and self.chat_alerts
        if notice.audience != "rep" or notice.rep_id is None or not ("alert" in notice.payload or slack_edit):
            return notice
        if not (self.email_alerts or self.chat_alerts):  # the console alone: no need to read the rep
            return notice
        rep = self.reps.get(notice.rep_id).profile
        update, payload = {}, dict(notice.payload)
        if "alert" in payload and self.email_alerts and rep.email is not None:
            update["email_to"] = rep.email
            payload["subject"], payload["body"] = alert_email(RepAlert.model_validate(payload["alert"]),
                                                              self.console_url)
            payload["to_name"] = rep.name
        chat_to = (rep.slack_user_id or self.chat_channel) if self.chat_alerts else None
        if chat_to is not None:
            update["chat_to"] = chat_to
            payload |= self._in_slack(notice, rep, now)
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

    def _in_slack(self, notice: Notice, rep: RepProfile, now: datetime) -> dict:
        """The notice's Slack fields: an offer with its actions, colleagues who can take it now in its pick list."""
        payload = notice.payload
        if notice.kind == "offer_closed":
            return closed_message(payload["offer"], payload["outcome"], rep.locale, rep=payload["rep"],
                                  colleague=payload["colleague"], at=_moment(payload["at"]))
        offer = notice.kind in OFFER_KINDS
        return alert_message(
            RepAlert.model_validate(payload["alert"]), rep.locale, link=self.console_url,
            expires_at=_moment(payload["expires_at"]) if offer else None,
            colleagues=[state.profile for state in self.reps.free_colleagues(rep.id, now)] if offer else None)

    def all(self) -> list:
        return [self.publish]


def _moment(iso: str | None) -> datetime | None:
    return None if iso is None else datetime.fromisoformat(iso)
