"""Picks the adapter of each kind: the built-in ones unless configuration names another (HubSpot, CalDAV)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from integrations.calendar.base import Calendar
from integrations.calendar.builtin import BuiltinCalendar
from integrations.calendar.caldav import CalDavCalendar
from integrations.crm.base import CRM
from integrations.crm.builtin import BuiltinCRM
from integrations.crm.guarded import GuardedCRM
from integrations.crm.hubspot import HubSpotAccess, HubSpotCRM
from integrations.notify.base import Notifier
from integrations.notify.builtin import BuiltinNotifier
from integrations.notify.destinations import CallbackPolicy
from integrations.notify.email import EmailDispatcher, SmtpMailer
from integrations.notify.slack import SlackDispatcher
from integrations.notify.slack_interactivity import SlackInteractions
from integrations.notify.webhooks import WebhookDispatcher
from store.crm_notes import NoteWrites
from store.db import Database


@dataclass(frozen=True)
class Integrations:
    crm: CRM
    notifier: Notifier
    calendar: Calendar
    callbacks: CallbackPolicy  # where webhooks may go: checked when a transfer starts, and by `webhooks` again
    # Delivery loops of the outbox the notifier writes; run by a worker process (`run_forever`).
    webhooks: WebhookDispatcher
    email: EmailDispatcher | None  # None without an SMTP server: e-mail notices wait in the outbox
    chat: SlackDispatcher | None = None  # None without a Slack token
    slack: SlackInteractions | None = None  # clicks on Slack cards; None without a Slack signing secret

    @property
    def calendar_sync(self) -> CalDavCalendar | None:
        """The calendar, when it pushes its changes to a CalDAV server: run by a worker process like the outbox."""
        return self.calendar if isinstance(self.calendar, CalDavCalendar) else None


def build_integrations(db: Database, *, webhook_secret: str, mailer: SmtpMailer | None = None,
                       slack_token: str | None = None, slack_signing_secret: str | None = None,
                       callback_allow: Iterable[str] = (), crm_timeout: float = 3.0,
                       hubspot: HubSpotAccess | None = None,
                       calendar: Literal["builtin", "caldav"] = "builtin", caldav_url: str | None = None,
                       caldav_username: str | None = None, caldav_password: str | None = None) -> Integrations:
    """`hubspot`: HubSpot is the CRM; else the built-in one. `calendar`: CalDAV pushes beside the built-in feed."""
    callbacks = CallbackPolicy(callback_allow)
    crm = HubSpotCRM(hubspot, NoteWrites(db), timeout=crm_timeout) if hubspot else BuiltinCRM(db)
    if calendar == "caldav":
        if caldav_url is None:
            raise ValueError("the CalDAV calendar needs the URL of each rep's calendar")
        calendar_adapter = CalDavCalendar(db, caldav_url, caldav_username, caldav_password)
    else:
        calendar_adapter = BuiltinCalendar(db)
    return Integrations(
        crm=GuardedCRM(crm, crm_timeout),
        notifier=BuiltinNotifier(db),
        calendar=calendar_adapter,
        callbacks=callbacks,
        webhooks=WebhookDispatcher(db, webhook_secret, destinations=callbacks),
        email=EmailDispatcher(db, mailer) if mailer else None,
        chat=SlackDispatcher(db, slack_token) if slack_token else None,
        slack=SlackInteractions(db, slack_signing_secret) if slack_signing_secret else None,
    )
