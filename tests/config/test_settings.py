from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from config import Settings


def test_a_caldav_calendar_needs_a_url_template_with_no_login_in_it():
    settings = Settings(calendar="caldav", caldav_url="https://dav.example.com/{rep_id}/calendar/",
                        caldav_username="warm-transfer", caldav_password="pw")
    assert settings.caldav_password.get_secret_value() == "pw" and "pw" not in repr(settings)
    assert Settings(calendar="caldav", caldav_url="https://dav.example.com/team/calendar/").caldav_url
    for url, problem in [(None, "needs WT_CALDAV_URL"), ("https://dav.example.com/{user}/", "no other placeholder"),
                         ("https://dav.example.com/{rep_id/", "placeholder is malformed"),
                         ("ftp://dav.example.com/{rep_id}/", "http"),
                         ("https://me:pw@dav.example.com/{rep_id}/", "not in the URL")]:
        with pytest.raises(ValidationError, match=problem):
            Settings(calendar="caldav", caldav_url=url)


@pytest.mark.parametrize("settings", [
    {"smtp_host": "mail.example.com", "smtp_username": "wt", "smtp_password": "pw"},
    {"smtp_host": "mail.example.com", "smtp_password": "pw"},
    {"calendar": "caldav", "caldav_url": "http://dav.example.com/{rep_id}/", "caldav_username": "wt",
     "caldav_password": "pw"},
    {"trigger_llm_url": "http://llm.example.com/v1", "trigger_llm_model": "m", "trigger_llm_key": "sk-1"},
    {"trigger_llm_url": "http://10.0.0.5/v1", "trigger_llm_model": "m", "trigger_llm_key": "sk-1"},
    {"crm": "hubspot", "hubspot_token": "t", "hubspot_base_url": "http://hubspot.example.com"},
])
def test_a_credential_never_crosses_the_network_in_clear(settings):
    with pytest.raises(ValidationError, match="STARTTLS|https") as raised:
        Settings(_env_file=None, **settings)
    (error,) = raised.value.errors()
    assert "pw" not in error["msg"] and "sk-1" not in error["msg"]  # what the line at start shows


@pytest.mark.parametrize("settings", [
    {"smtp_host": "mail.example.com", "smtp_username": "wt", "smtp_password": "pw", "smtp_starttls": True},
    {"smtp_host": "mail.example.com"},  # no login: nothing secret crosses
    {"smtp_host": "127.0.0.2", "smtp_username": "wt", "smtp_password": "pw"},
    {"smtp_host": "localhost", "smtp_username": "wt", "smtp_password": "pw"},
    {"calendar": "caldav", "caldav_url": "https://dav.example.com/{rep_id}/", "caldav_password": "pw"},
    {"calendar": "caldav", "caldav_url": "http://127.0.0.1:5232/{rep_id}/", "caldav_password": "pw"},
    {"calendar": "caldav", "caldav_url": "http://dav.example.com/{rep_id}/"},
    {"trigger_llm_url": "http://[::1]:8080/v1", "trigger_llm_model": "m", "trigger_llm_key": "sk-1"},
    {"trigger_llm_url": "http://llm.internal/v1", "trigger_llm_model": "m"},  # no key
    {"crm": "hubspot", "hubspot_token": "t", "hubspot_base_url": "http://127.5.0.1:8080"},
])
def test_plain_http_or_smtp_is_fine_without_a_credential_or_on_a_loopback_address(settings):
    Settings(_env_file=None, **settings)


@pytest.mark.parametrize(("setting", "value", "problem"), [
    ("database_url", "garbage", "is not a database URL: expected sqlite:///<file> or postgresql+psycopg://"),
    ("database_url", "mysql://u:p@db/wt", "mysql is not supported: expected sqlite:///<file> or postgresql"),
    ("database_url", "postgresql+psycopg2://u:p@db/wt", "PostgreSQL is reached with the psycopg driver"),
    ("database_url", "sqlite+pysqlcipher:///x.db", "SQLite is reached with Python's own sqlite3"),
    ("task_queue", "", "must not be empty"),
    ("task_queue", "  ", "must not be empty"),
    ("public_url", "javascript:alert(1)", "must be an http:// or https:// URL with a host"),
    ("public_url", "https://", "must be an http:// or https:// URL with a host"),
    ("temporal_address", "garbage", "expected host:port"),
    ("temporal_address", "temporal:port", "expected host:port"),
    ("temporal_address", "temporal:70000", "expected host:port"),
    ("api_host", "999.1.1.1", "is not a valid IP address or host name"),
    ("api_host", "not a host", "is not a valid IP address or host name"),
    ("trigger_policy", "/nonexistent", "no such file"),
    ("codec_origins", "https://x.example/path", "is not an origin"),
    ("codec_origins", "x.example", "is not an origin"),
])
def test_a_bad_value_is_refused_naming_what_is_wrong(setting, value, problem):
    with pytest.raises(ValidationError, match=re.escape(problem)) as raised:
        Settings(_env_file=None, **{setting: value})
    assert [error["loc"] for error in raised.value.errors()] == [(setting,)]


def test_good_addresses_and_urls_are_taken():
    settings = Settings(_env_file=None, temporal_address="sales.a1b2c.tmprl.cloud:7233", api_host="0.0.0.0",
                        public_url="https://transfers.example.com/", database_url="postgresql+psycopg://u:p@db/wt")
    assert settings.public_url == "https://transfers.example.com"
    for host in ("::", "localhost", "api-1.internal", "10.1.2.3"):
        assert Settings(_env_file=None, api_host=host).api_host == host
    assert Settings(_env_file=None, temporal_address="[::1]:7233").temporal_address == "[::1]:7233"
    assert Settings(_env_file=None, public_url="").public_url is None


def test_codec_origins_are_comma_separated_like_the_other_lists_or_a_json_list(monkeypatch):
    monkeypatch.setenv("WT_CODEC_ORIGINS", "https://x.example, http://127.0.0.1:8233/")
    assert Settings(_env_file=None).codec_origins == ["https://x.example", "http://127.0.0.1:8233"]
    monkeypatch.setenv("WT_CODEC_ORIGINS", '["https://x.example"]')  # as docker-compose.yml sets it
    assert Settings(_env_file=None).codec_origins == ["https://x.example"]
    monkeypatch.setenv("WT_CODEC_ORIGINS", "")
    assert Settings(_env_file=None).codec_origins == []
