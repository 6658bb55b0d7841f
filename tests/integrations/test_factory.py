from __future__ import annotations

import pytest
from pydantic import ValidationError

from config import Settings
from integrations.calendar.builtin import BuiltinCalendar
from integrations.calendar.caldav import CalDavCalendar
from integrations.crm.builtin import BuiltinCRM
from integrations.crm.guarded import GuardedCRM
from integrations.crm.hubspot import HubSpotCRM
from integrations.factory import build_integrations
from integrations.notify.builtin import BuiltinNotifier
from integrations.notify.email import SmtpMailer
from workers.cli import _settings_error
from workers.services import build_services


def test_builds_the_embedded_adapters(db):
    integrations = build_integrations(db, webhook_secret="s3cret", crm_timeout=1.5)
    assert isinstance(integrations.crm, GuardedCRM)  # a CRM that fails or hangs never holds up a transfer
    assert isinstance(integrations.crm.crm, BuiltinCRM) and integrations.crm.timeout == 1.5
    assert isinstance(integrations.notifier, BuiltinNotifier)
    assert isinstance(integrations.calendar, BuiltinCalendar)
    assert integrations.webhooks.secret == "s3cret"
    assert integrations.email is None
    mailer = SmtpMailer("127.0.0.1", 25, "wt@example.com")
    assert build_integrations(db, webhook_secret="s3cret", mailer=mailer).email.mailer is mailer


def test_an_empty_webhook_secret_is_refused(db):
    with pytest.raises(ValueError, match="secret"):
        build_integrations(db, webhook_secret="")


def test_hubspot_is_the_crm_when_configured(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'app.db'}", crm="hubspot", hubspot_token="pat-na1-x",
                        hubspot_base_url="http://127.0.0.1:8099/", crm_timeout=2)
    services = build_services(settings)
    crm = services.integrations.crm
    assert isinstance(crm, GuardedCRM) and isinstance(crm.crm, HubSpotCRM) and crm.timeout == 2
    assert str(crm.crm.client.base_url) == "http://127.0.0.1:8099"
    assert crm.crm.client.headers["Authorization"] == "Bearer pat-na1-x"
    services.db.dispose()


@pytest.mark.parametrize(("setting", "refused"), [
    ({"crm": "hubspot"}, "WT_HUBSPOT_TOKEN=<hidden>: WT_CRM=hubspot needs a HubSpot private app's token"),
    ({"hubspot_base_url": "http://api.hubapi.example"}, "must be an https URL (plain http only to a loopback address)"),
])
def test_hubspot_settings_are_checked_at_start(setting, refused):
    with pytest.raises(ValidationError) as raised:
        Settings(**setting)
    assert refused in _settings_error(raised.value)


def test_the_caldav_calendar_is_chosen_by_configuration(db):
    integrations = build_integrations(db, webhook_secret="s3cret", calendar="caldav",
                                      caldav_url="https://dav.example.com/{rep_id}/calendar/",
                                      caldav_username="warm-transfer", caldav_password="pw")
    assert isinstance(integrations.calendar, CalDavCalendar) and integrations.calendar_sync is integrations.calendar
    assert integrations.calendar.url_template == "https://dav.example.com/{rep_id}/calendar/"
    assert build_integrations(db, webhook_secret="s3cret").calendar_sync is None
    with pytest.raises(ValueError, match="URL"):
        build_integrations(db, webhook_secret="s3cret", calendar="caldav")
