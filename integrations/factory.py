"""Picks the adapter of each kind: the built-in ones, or third-party adapters chosen by configuration."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from integrations.calendar.base import Calendar
from integrations.calendar.builtin import BuiltinCalendar
from integrations.crm.base import CRM
from integrations.crm.builtin import BuiltinCRM
from integrations.crm.guarded import GuardedCRM
from integrations.crm.hubspot import HubSpotAccess, HubSpotCRM
from integrations.notify.base import Notifier
from integrations.notify.builtin import BuiltinNotifier
from integrations.notify.destinations import CallbackPolicy
from integrations.notify.email import EmailDispatcher, SmtpMailer
from integrations.notify.slack import SlackDispatcher
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


def build_integrations(db: Database, *, webhook_secret: str, mailer: SmtpMailer | None = None,
                       slack_token: str | None = None, callback_allow: Iterable[str] = (),
                       crm_timeout: float = 3.0, hubspot: HubSpotAccess | None = None) -> Integrations:
    """`hubspot`: HubSpot is the CRM; else the built-in one."""
    callbacks = CallbackPolicy(callback_allow)
    crm = HubSpotCRM(hubspot, NoteWrites(db), timeout=crm_timeout) if hubspot else BuiltinCRM(db)
    return Integrations(
        crm=GuardedCRM(crm, crm_timeout),
        notifier=BuiltinNotifier(db),
        calendar=BuiltinCalendar(db),
        callbacks=callbacks,
        webhooks=WebhookDispatcher(db, webhook_secret, destinations=callbacks),
        email=EmailDispatcher(db, mailer) if mailer else None,
        chat=SlackDispatcher(db, slack_token) if slack_token else None,
    )
