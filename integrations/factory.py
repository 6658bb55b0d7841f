"""Picks the adapter of each kind. Today the built-in ones; third-party adapters plug in here by configuration."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from integrations.calendar.base import Calendar
from integrations.calendar.builtin import BuiltinCalendar
from integrations.crm.base import CRM
from integrations.crm.builtin import BuiltinCRM
from integrations.crm.guarded import GuardedCRM
from integrations.notify.base import Notifier
from integrations.notify.builtin import BuiltinNotifier
from integrations.notify.destinations import CallbackPolicy
from integrations.notify.email import EmailDispatcher, SmtpMailer
from integrations.notify.slack import SlackDispatcher
from integrations.notify.slack_interactivity import SlackInteractions
from integrations.notify.webhooks import WebhookDispatcher
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


def build_integrations(db: Database, *, webhook_secret: str, mailer: SmtpMailer | None = None,
                       slack_token: str | None = None, slack_signing_secret: str | None = None,
                       callback_allow: Iterable[str] = (),
                       crm_timeout: float = 3.0) -> Integrations:
    callbacks = CallbackPolicy(callback_allow)
    return Integrations(
        crm=GuardedCRM(BuiltinCRM(db), crm_timeout),
        notifier=BuiltinNotifier(db),
        calendar=BuiltinCalendar(db),
        callbacks=callbacks,
        webhooks=WebhookDispatcher(db, webhook_secret, destinations=callbacks),
        email=EmailDispatcher(db, mailer) if mailer else None,
        chat=SlackDispatcher(db, slack_token) if slack_token else None,
        slack=SlackInteractions(db, slack_signing_secret) if slack_signing_secret else None,
    )
