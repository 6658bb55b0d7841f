"""Wires configuration to stores, integrations and activities: the one place that knows every layer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError

from activities.digest import DigestActivities
from activities.publish import PublishActivities
from activities.routing import RoutingActivities
from activities.watchdog import WatchdogActivities
from config import Settings
from domain.triggers import load_policy
from integrations.crm.hubspot import HubSpotAccess
from integrations.factory import Integrations, build_integrations
from integrations.notify.email import SmtpMailer
from store.capacity import CapacityStore
from store.crm_notes import PendingCrmNotes
from store.db import Database
from store.keys import CalendarTokenStore, KeyStore
from store.metrics import MetricsStore
from store.outbox import OutboxStore
from store.reps import RepStore
from store.schema import migrate
from store.transfers import TransferStore
from store.watchdog import WatchdogStore
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
    crm_notes: PendingCrmNotes  # notes the CRM did not take yet
    integrations: Integrations

    def activities(self, settings: Settings) -> list:
        routing = RoutingActivities(self.reps, self.capacity, self.integrations.crm, settings.avg_handle_seconds,
                                    load_policy(settings.trigger_policy))
        publish = PublishActivities(self.transfers, self.integrations.notifier, self.integrations.calendar,
                                    self.integrations.crm, self.reps, self.capacity, self.crm_notes,
                                    email_alerts=self.integrations.email is not None,
                                    chat_alerts=self.integrations.chat is not None,
                                    chat_channel=settings.slack_channel,
                                    console_url=f"{settings.public_url}/console" if settings.public_url else None)
        notifier, grace = self.integrations.notifier, timedelta(minutes=settings.watchdog_grace)
        watchdog = WatchdogActivities(WatchdogStore(self.db), MetricsStore(self.db), notifier, grace,
                                      timedelta(hours=settings.watchdog_remind_hours), settings.ops_email,
                                      settings.ops_slack_channel if self.integrations.chat else None)
        digest = DigestActivities(MetricsStore(self.db), self.reps, notifier, settings.digest_to,
                                  settings.digest_timezone, grace)
        return routing.all() + publish.all() + watchdog.all() + digest.all()


class DatabaseUnavailable(RuntimeError):
    """The app database cannot be reached or opened at start: which setting, and what failed (never its password)."""


def hide_password(url: str) -> str:
    """A database URL as it may be shown: its password as `***`."""
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def ready(settings: Settings) -> Iterator[None]:
    """A database that cannot be reached, found or opened becomes one line naming WT_DATABASE_URL (other database
    errors are bugs, and keep their traceback)."""
    try:
        yield
    except (OperationalError, InterfaceError, OSError) as err:
        cause = err if isinstance(err, OSError) else err.orig
        what = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        password = make_url(settings.database_url).password
        if password:
            what = what.replace(str(password), "***")
        raise DatabaseUnavailable(f"WT_DATABASE_URL={hide_password(settings.database_url)}: the app database cannot "
                                  f"be used: {what}") from None


def open_database(settings: Settings) -> Database:
    """The app database (a SQLite file's directory made if need be), as it is: not yet migrated."""
    with ready(settings):
        if settings.database_url.startswith("sqlite:///"):
            Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return Database(settings.database_url)


def build_services(settings: Settings) -> Services:
    db = open_database(settings)
    with ready(settings):
        migrate(db)  # one process at a time: others started beside this one wait (store.schema)
    caldav_password = settings.caldav_password.get_secret_value() if settings.caldav_password else None
    integrations = build_integrations(db, webhook_secret=webhook_secret(settings), mailer=_mailer(settings),
                                      slack_token=_revealed(settings.slack_bot_token),
                                      slack_signing_secret=_revealed(settings.slack_signing_secret),
                                      callback_allow=settings.callback_allow,
                                      crm_timeout=settings.crm_timeout, hubspot=_hubspot(settings),
                                      calendar=settings.calendar, caldav_url=settings.caldav_url,
                                      caldav_username=settings.caldav_username, caldav_password=caldav_password)
    return Services(db=db, reps=RepStore(db), capacity=CapacityStore(db), transfers=TransferStore(db),
                    keys=KeyStore(db), calendar_tokens=CalendarTokenStore(db), outbox=OutboxStore(db),
                    crm_notes=PendingCrmNotes(db), integrations=integrations)


def _hubspot(settings: Settings) -> HubSpotAccess | None:
    if settings.crm != "hubspot" or settings.hubspot_token is None:
        return None
    return HubSpotAccess(settings.hubspot_token.get_secret_value(), settings.hubspot_base_url)


def _revealed(secret: SecretStr | None) -> str | None:
    return None if secret is None else secret.get_secret_value()


def _mailer(settings: Settings) -> SmtpMailer | None:
    if settings.smtp_host is None:
        return None
    return SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_sender, starttls=settings.smtp_starttls,
                      username=settings.smtp_username, password=settings.smtp_password)

