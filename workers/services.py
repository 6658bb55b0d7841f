"""Wires configuration to stores, integrations and activities: the one place that knows every layer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from activities.publish import PublishActivities
from activities.routing import RoutingActivities
from config import Settings
from domain.triggers import load_policy
from integrations.factory import Integrations, build_integrations
from integrations.notify.email import SmtpMailer
from store.capacity import CapacityStore
from store.db import Database
from store.keys import CalendarTokenStore, KeyStore
from store.outbox import OutboxStore
from store.reps import RepStore
from store.schema import migrate
from store.transfers import TransferStore
from workers.secrets import webhook_secret


@dataclass
class Services:
    db: Database
    reps: RepStore
    capacity: CapacityStore
    transfers: TransferStore
    keys: KeyStore
    calendar_tokens: CalendarTokenStore
    outbox: OutboxStore
    integrations: Integrations

    def activities(self, settings: Settings) -> list:
        routing = RoutingActivities(self.reps, self.capacity, self.integrations.crm, settings.avg_handle_seconds,
                                    load_policy(settings.trigger_policy))
        publish = PublishActivities(self.transfers, self.integrations.notifier, self.integrations.calendar,
                                    self.integrations.crm, self.reps, self.capacity,
                                    email_alerts=self.integrations.email is not None,
                                    chat_channel=settings.slack_channel if self.integrations.chat else None,
                                    console_url=f"{settings.public_url}/console" if settings.public_url else None)
        return routing.all() + publish.all()


def open_database(settings: Settings) -> Database:
    """The app database (a SQLite file's directory made if need be), as it is: not yet migrated."""
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return Database(settings.database_url)


def build_services(settings: Settings) -> Services:
    db = open_database(settings)
    migrate(db)  # one process at a time: others started beside this one wait (store.schema)
    integrations = build_integrations(db, webhook_secret=webhook_secret(settings), mailer=_mailer(settings),
                                      slack_token=settings.slack_bot_token, callback_allow=settings.callback_allow,
                                      crm_timeout=settings.crm_timeout)
    return Services(db=db, reps=RepStore(db), capacity=CapacityStore(db), transfers=TransferStore(db),
                    keys=KeyStore(db), calendar_tokens=CalendarTokenStore(db), outbox=OutboxStore(db),
                    integrations=integrations)


def _mailer(settings: Settings) -> SmtpMailer | None:
    if settings.smtp_host is None:
        return None
    return SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_sender, starttls=settings.smtp_starttls,
                      username=settings.smtp_username, password=settings.smtp_password)

