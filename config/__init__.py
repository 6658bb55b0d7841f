"""All configuration, from environment variables prefixed WT_ (and an optional .env file)."""

from __future__ import annotations

import ipaddress
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    EmailStr,
    Field,
    FilePath,
    SecretStr,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from domain.reps import TimeZoneName
from integrations.calendar.caldav import url_template
from integrations.crm.hubspot import HUBSPOT_API
from integrations.notify.destinations import allow_list_entry
from integrations.triggers.chat import endpoint_url

DATA_DIR = Path(".data")
EventLoopName = Literal["uvloop", "asyncio"]
LogFormat = Literal["text", "json"]
SCALE_OUT_PROCESSES = ("api", "worker")


def needed_by(*processes: str, secret: bool = False) -> dict:
    """Marks a setting that the scale-out processes (`api`, `worker`) must be given: its default suits one machine
    only, or they refuse to start without it. docker-compose.yml sets each for those processes, a secret as a
    required variable (tests/workers/test_compose.py checks), and docs/configuration.md says so."""
    return {"needed_by": list(processes or SCALE_OUT_PROCESSES), "secret": secret}


Addresses = Annotated[list[EmailStr], NoDecode]  # comma-separated in the environment
TimeOfDay = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
# Secrets we sign or authenticate with, and the admin key: long enough that guessing them is hopeless. `up` makes
# its own (43 characters); `python -c "import secrets; print(secrets.token_urlsafe(32))"` makes one.
MIN_SECRET_LENGTH = 32
# Slack issues its apps' signing secrets (32 hex characters): anything much shorter is not one.
MIN_SLACK_SIGNING_SECRET_LENGTH = 16
DATABASES = "sqlite:///<file> or postgresql+psycopg://<user>:<password>@<host>/<database>"
_HOST_NAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}"
                        r"[A-Za-z0-9])?)*\.?$")


def is_loopback(host: str | None) -> bool:
    """Whether `host` is this machine: `localhost`, 127.0.0.0/8 or ::1."""
    if not host:
        return False
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def safe_for_credentials(url: str) -> bool:
    """Whether a credential sent to `url` stays out of sight: https, or plain http to a loopback address only (a
    test double on this host). The one rule for every setting that sends a token, key or password over HTTP."""
    parsed = urlsplit(url)
    return parsed.scheme == "https" or parsed.scheme == "http" and is_loopback(parsed.hostname)


def is_host(value: str) -> bool:
    """An IP address, or a host name whose labels are letters, digits and hyphens (not all digits at the end, so
    `999.1.1.1` is no host name but a bad address)."""
    try:
        ipaddress.ip_address(value.strip("[]"))
        return True
    except ValueError:
        return bool(_HOST_NAME.match(value)) and not value.rstrip(".").rpartition(".")[2].isdigit()


def host_and_port(value: str, example: str) -> str:
    """`value` if it is `host:port` (an IPv6 address in brackets); a ValueError otherwise."""
    host, _, port = value.strip().rpartition(":")
    if not (host and is_host(host) and port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"expected host:port, e.g. {example}")
    return value.strip()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WT_", env_file=".env", extra="ignore")

    database_url: str = Field(f"sqlite:///{DATA_DIR}/app.db", description="the app database (reps, seats, queue, "
                              "transfers, outbox): `sqlite:///<file>`, or `postgresql+psycopg://<user>:<password>@"
                              "<host>/<database>` for PostgreSQL; `up` keeps it in its `--data-dir` unless this is set",
                              json_schema_extra=needed_by())
    temporal_address: str = Field("127.0.0.1:7233", description="the Temporal frontend, `host:port`; `up` runs its "
                                  "own and sets this from `--temporal-port`", json_schema_extra=needed_by())
    temporal_namespace: str = Field("default", description="the Temporal namespace transfers run in (on Temporal "
                                    "Cloud `<namespace>.<account>`)")
    temporal_tls: bool | None = Field(None, description="whether `api` and `worker` reach Temporal over TLS. Unset: "
                                      "over TLS when any `WT_TEMPORAL_TLS_*` file or `WT_TEMPORAL_API_KEY` is set; "
                                      "`true`: over TLS, the server checked against the system's trusted CAs unless "
                                      "`WT_TEMPORAL_TLS_CA`; `false`: in clear, whatever else is set (as `up` "
                                      "reaches its own dev server)")
    temporal_tls_ca: FilePath | None = Field(None, description="a PEM file of the CA certificate(s) Temporal's "
                                             "server certificate is checked against (a self-hosted cluster's own CA); "
                                             "unset: the system's trusted CAs")
    temporal_tls_cert: FilePath | None = Field(None, description="a PEM file of the client certificate `api` and "
                                               "`worker` present to Temporal (mTLS: a self-hosted cluster, or Temporal "
                                               "Cloud with certificates); needs `WT_TEMPORAL_TLS_KEY`")
    temporal_tls_key: FilePath | None = Field(None, description="a PEM file of that certificate's private key, "
                                              "without a passphrase")
    temporal_tls_server_name: str | None = Field(None, description="the name Temporal's server certificate is "
                                                 "checked against (and sent as SNI), when it is not the host of "
                                                 "`WT_TEMPORAL_ADDRESS`, e.g. `temporal.internal` when connecting by "
                                                 "IP address")
    temporal_api_key: SecretStr | None = Field(None, description="a Temporal Cloud API key, sent as `Authorization: "
                                               "Bearer <key>` on every call to Temporal; turns TLS on (see "
                                               "`WT_TEMPORAL_TLS`)")
    task_queue: str = Field("warm-transfer", description="the Temporal task queue the worker polls and the API "
                            "starts transfers on")
    api_host: str = Field("127.0.0.1", description="the address the API listens on: an IP address of this host "
                          "(`0.0.0.0` for all) or a name for one",
                          json_schema_extra=needed_by("api"))
    api_port: int = Field(8000, ge=1, le=65535, description="the port the API listens on (`up --api-port` "
                          "overrides it)")
    public_url: str | None = Field(None, description="how reps reach the API, e.g. `https://transfers.example.com`, "
                                   "for the console link in alert e-mails: an http(s) URL with a host")

    admin_key: str | None = Field(None, description="the admin key this setting stands for, at least 32 characters; "
                                  "more keys are issued with `POST /v1/api-keys`. `api` refuses to start without it. "
                                  "When it changes, the API revokes the key it stood for before as it starts, so the "
                                  "old value stops working: give every API process the same value",
                                  json_schema_extra=needed_by("api", secret=True))
    webhook_secret: SecretStr | None = Field(None, description="the HMAC-SHA256 secret webhooks are signed with "
                                             "(`X-WT-Signature`), and the codec server's sessions too; at least 32 "
                                             "characters. `api` and `worker` refuse to start without one, `up` makes "
                                             "one in its data directory", json_schema_extra=needed_by(secret=True))
    metrics_token: SecretStr | None = Field(None, description="the bearer token Prometheus scrapes the API's "
                                            "`/metrics` with (`authorization: {credentials: ...}` in its scrape "
                                            "config), at least 32 characters; it reads nothing else. Unset, "
                                            "`/metrics` takes an admin key only")
    encryption_keys: SecretStr | None = Field(None, description="the key ring every payload to Temporal is encrypted "
                                              "with (AES-256-GCM): `<id>:<base64 of 32 bytes>` entries, comma-"
                                              "separated, newest first. The first encrypts, all decrypt, so a key is "
                                              "rotated by putting a new one first. `api` and `worker` refuse to start "
                                              "without it (unless `WT_ALLOW_UNENCRYPTED`); `up` makes one in its data "
                                              "directory", json_schema_extra=needed_by(secret=True))
    allow_unencrypted: bool = Field(False, description="run without `WT_ENCRYPTION_KEYS`: prospects' personal data "
                                    "then sits in clear in Temporal's histories")
    codec_origins: Annotated[list[str], NoDecode] = Field([], description="the origins of Temporal UIs allowed to "
                                                          "call the codec server (`/codec`) from the browser, comma-"
                                                          "separated, e.g. `https://temporal.example.com` (a JSON "
                                                          "list is taken too); `up` allows its own UI")
    smtp_host: str | None = Field(None, description="an SMTP server; when set, prospect confirmations and rep "
                                  "alerts (in the same words as the console card) are e-mailed")
    smtp_port: int = Field(25, ge=1, le=65535, description="the SMTP server's port")
    smtp_sender: str = Field("Warm Transfer <warm-transfer@localhost>", description="the sender of those e-mails")
    smtp_starttls: bool = Field(False, description="whether to secure the SMTP connection with STARTTLS; needed "
                                "with a login (`WT_SMTP_USERNAME`) unless the server is on a loopback address")
    smtp_username: str | None = Field(None, description="the SMTP login, when the server asks for one")
    smtp_password: str | None = Field(None, description="the SMTP login's password")
    slack_bot_token: SecretStr | None = Field(None, description="a Slack app's bot token (`xoxb-...`, scopes "
                                              "`chat:write` and `im:write`): rep alerts are posted to Slack too, as "
                                              "the console's card, an offer with Accept, Defer to colleague and "
                                              "Schedule callback; to the rep's direct messages when their profile "
                                              "has a `slack_user_id`, else to `WT_SLACK_CHANNEL`")
    slack_channel: str | None = Field(None, description="the Slack channel id alerts of reps without a "
                                      "`slack_user_id` go to, e.g. `C0123456789` (the app must be in it)")
    slack_signing_secret: SecretStr | None = Field(None, description="the Slack app's signing secret: with it, "
                                                   "`POST /v1/slack/interactivity` takes the clicks on the cards' "
                                                   "actions (each request's signature and age checked, a replay "
                                                   "refused); without it that endpoint answers 404. At "
                                                   "least 16 characters (Slack's are 32)")
    crm: Literal["builtin", "hubspot"] = Field("builtin", description="the CRM prospects' accounts and history "
                                               "are read from and transfer notes written to: `builtin` (tables in "
                                               "the app database) or `hubspot` (needs `WT_HUBSPOT_TOKEN`)")
    hubspot_token: SecretStr | None = Field(None, validate_default=True, description="a HubSpot private app's "
                                            "access token, sent as a Bearer token; the app needs the scopes "
                                            "`crm.objects.contacts.read`, `crm.objects.contacts.write`, "
                                            "`crm.objects.companies.read`, `crm.objects.companies.write` and "
                                            "`crm.objects.owners.read`")
    hubspot_base_url: str = Field(HUBSPOT_API, description="HubSpot's API: `https`, or plain `http` to a loopback "
                                  "address only (a test double)")
    crm_timeout: float = Field(3.0, gt=0, le=60, description="seconds a CRM call may take. A CRM that fails, takes "
                               "longer or answers nonsense is noted as unavailable in the transfer's timeline and the "
                               "rep's package, and the transfer goes on without it; a note it did not take is retried "
                               "until it is written, once")
    trigger_meaning: bool = Field(True, description="weigh the trigger rules with the meaning model we ship (a "
                                  "multilingual sentence encoder and models trained on labelled conversations; about "
                                  "90 MB and a second to load in the API); `false` answers `/v1/triggers/evaluate` "
                                  "with the policy's rules alone")
    calendar: Literal["builtin", "caldav"] = Field("builtin", description="where reps' follow-ups are kept: "
                                                   "`builtin`, in the app database, read as each rep's ICS feed; "
                                                   "`caldav`, there and in each rep's calendar on a CalDAV server "
                                                   "(`WT_CALDAV_URL`), moved and closed there as the follow-up moves "
                                                   "and closes")
    caldav_url: str | None = Field(None, description="each rep's calendar on the CalDAV server, `{rep_id}` standing "
                                   "for the rep's id, e.g. `https://dav.example.com/{rep_id}/calendar/`; without "
                                   "`{rep_id}`, one calendar for the whole team. Needed by `WT_CALENDAR=caldav`")
    caldav_username: str | None = Field(None, description="the CalDAV login (HTTP Basic): an account that may write "
                                        "every rep's calendar")
    caldav_password: SecretStr | None = Field(None, description="the CalDAV login's password; with a login, "
                                              "`WT_CALDAV_URL` must be https unless the server is on a loopback "
                                              "address")
    trigger_policy: str | None = Field(None, description="a trigger policy file of your own (phrases, thresholds, "
                                       "score bands), checked at start; unset: the bundled "
                                       "`domain/triggers/policy.toml`")
    trigger_llm_url: str | None = Field(None, description="the base URL of an OpenAI-compatible Chat Completions "
                                        "API, e.g. `https://llm.internal/v1`; when set, `POST /v1/triggers/evaluate` "
                                        "asks that language model (at `<url>/chat/completions`), and the local "
                                        "evaluator answers whenever it cannot. http or https, with no credentials or "
                                        "query in it. Unset: the local evaluator alone")
    trigger_llm_model: str | None = Field(None, description="the model to ask, as that API names it; needed with "
                                          "`WT_TRIGGER_LLM_URL`")
    trigger_llm_key: SecretStr | None = Field(None, description="the key sent to that API as `Authorization: Bearer "
                                              "<key>`; unset for a server that wants none. With a key, "
                                              "`WT_TRIGGER_LLM_URL` must be https unless it is a loopback address")
    trigger_llm_timeout: float = Field(3.0, gt=0, le=60, description="seconds the language model has to answer, "
                                       "from connecting to the last byte; after that the local evaluator answers")
    callback_allow: Annotated[list[str], NoDecode] = Field([], description="where a bot's `callback_url` may lead "
                                                          "besides public addresses, comma-separated host names, "
                                                          "addresses and networks, e.g. `127.0.0.0/8,::1,hooks."
                                                          "internal`; these may be plain http too. Every other "
                                                          "loopback, private, link-local, CGNAT, multicast or "
                                                          "metadata address is refused; `up` allows loopback for its "
                                                          "demo")
    max_request_bytes: int = Field(1_048_576, ge=1024, description="the largest request body the API reads (1 MiB); "
                                   "a larger one is refused with 413 before it is read whole")

    offer_timeout: int = Field(30, ge=5, le=3600, description="seconds a rep has to answer an offer; a rep who lets "
                               "it lapse is set away, and the transfer moves to the next best rep")
    ack_timeout: int = Field(60, ge=5, le=3600, description="seconds an accepted rep has to take over (`ack`) before "
                             "recovery starts")
    prepare_timeout: int = Field(120, ge=5, le=3600, description="seconds to wait for the prospect's answer to "
                                 "\"anything else to pass on?\" before going ahead without one")
    choice_timeout: int = Field(600, ge=10, le=86400, description="seconds to wait for the prospect's choice between "
                                "a callback and an e-mail; then the follow-up goes by what is known of them")
    queue_recheck: int = Field(120, ge=5, le=3600, description="seconds between a queued transfer's own checks, a "
                               "safety net: a seat handed over or a new place in the queue reaches it at once. Places "
                               "1-10 check this often; place k×10 checks k times less often, at most hourly, so a "
                               "long queue stays cheap")
    recovery_minutes: int = Field(15, ge=1, le=1440, description="minutes within which a rep calls back after a "
                                  "failed transfer")
    feedback_wait: int = Field(7 * 86400, ge=60, description="seconds to wait for the rep's feedback and the "
                               "prospect's CSAT before closing")
    avg_handle_seconds: int = Field(300, ge=10, description="a typical conversation's length, for the queue's wait "
                                    "estimates")
    workflow_cache: int = Field(1000, ge=10, le=100_000, description="transfers a worker keeps in memory (about 0.15 "
                                "MiB each); the others are replayed from their history when something happens to them")
    deliver_outbox: bool = Field(True, description="whether a `worker` process delivers the outbox (webhooks, "
                                 "e-mail, Slack) and retries the CRM notes the CRM did not take; `up` turns it off "
                                 "for its worker and does both from its API process")
    wakeup_dir: Path | None = Field(None, description="a directory the `api` and `worker` processes of one host "
                                    "share on SQLite, so a notice a worker writes wakes the API's event streams at "
                                    "once; `up` uses `<data-dir>/wakeup`. On PostgreSQL, notices wake the streams of "
                                    "every host through LISTEN/NOTIFY without it")
    stream_poll_seconds: float = Field(0.2, gt=0, le=60, description="how often an event stream looks for notices no "
                                       "wake-up told it of: on SQLite, from a worker that shares no `WT_WAKEUP_DIR` "
                                       "with it; on PostgreSQL, where every notice wakes the streams, it is only a "
                                       "safety net. Each poll costs: at 0.2 s an idle rep console took 0.75% of a "
                                       "core, so `up`, whose processes all share `WT_WAKEUP_DIR`, polls every 5 s "
                                       "unless this is set")
    workflow_sandbox: bool = Field(False, description="run transfers inside the Temporal SDK's workflow sandbox. Off "
                                   "because it costs a fifth of the worker's CPU and half a cached transfer's memory; "
                                   "the tests run every branch sandboxed and replay recorded histories both ways, so a "
                                   "forbidden call (the clock, randomness, I/O outside `workflow.*`) fails them "
                                   "instead")
    watchdog: bool = Field(True, description="run the watchdog, a Temporal schedule (`<task queue>-watchdog`) that "
                           "looks for transfers stuck past what their state allows: a workflow task failing, a queued "
                           "transfer past its wait estimate, a follow-up past its due time with nobody taking over; "
                           "ops hear of them by `WT_OPS_EMAIL` and `WT_OPS_SLACK_CHANNEL`. `false` removes the "
                           "schedule when a worker starts")
    watchdog_every: int = Field(5, ge=1, le=1440, description="minutes between the watchdog's looks")
    watchdog_grace: int = Field(15, ge=1, le=1440, description="minutes a transfer may run late before it counts as "
                                "stuck: past its last wait estimate in the queue, or past a follow-up's due time "
                                "without a rep taking over. The daily digest counts a follow-up not taken over by then "
                                "as a broken promise")
    watchdog_remind_hours: int = Field(24, ge=1, le=720, description="hours before ops hear again of a transfer "
                                       "that stays stuck: never twice about one transfer sooner")
    ops_email: Addresses = Field([], description="comma-separated addresses the watchdog's alerts are e-mailed to "
                                 "(needs `WT_SMTP_HOST`)")
    ops_slack_channel: str | None = Field(None, description="the Slack channel id the watchdog's alerts are posted "
                                          "to (needs `WT_SLACK_BOT_TOKEN`). With neither this nor `WT_OPS_EMAIL`, "
                                          "its alerts are only in the worker's log and its runs' results")
    digest_to: Addresses = Field([], description="comma-separated managers' addresses for the daily digest: "
                                 "yesterday's six metrics, the broken promises and the feedback report, e-mailed "
                                 "(text and HTML) by a Temporal schedule (`<task queue>-digest`). Sent when this and "
                                 "`WT_SMTP_HOST` are set; unset, a worker removes the schedule")
    digest_at: TimeOfDay = Field("08:00", description="the time of day the digest goes out, `HH:MM` in "
                                 "`WT_DIGEST_TIMEZONE`")
    digest_timezone: TimeZoneName = Field("UTC", description="the time zone of `WT_DIGEST_AT` and of the day the "
                                          "digest reports, e.g. `Europe/Paris`")
    event_loop: EventLoopName = Field("uvloop", description="the event loop of `up`, `api` and `worker`: uvloop "
                                      "costs about a tenth less of the worker's CPU; where it is not installed (as on "
                                      "Windows), asyncio's own runs")
    log_format: LogFormat = Field("text", description="how `up`, `api` and `worker` write their log: `text` for "
                                  "people, or `json`: one JSON object per line (`time`, `level`, `logger`, "
                                  "`message`, and `transfer_id`, `trace_id` and `exception` where there is one), "
                                  "for a log collector")
    temporal_sdk_metrics: bool = Field(False, description="the Temporal SDK's own metrics (workflow task latency, "
                                       "schedule-to-start, activity failures) beside ours on the API's `/metrics` "
                                       "(and the worker's, which `WT_WORKER_METRICS_ADDRESS` turns on anyway). Off by "
                                       "default: measured at 5 transfers/s, they cost about 4 ms of the API's CPU and "
                                       "5 ms of the worker's per transfer, about 9% of each")
    worker_metrics_address: str | None = Field(None, description="`host:port` where a `worker` process serves "
                                               "Prometheus `/metrics`: the Temporal SDK's own metrics (workflow task "
                                               "latency, schedule-to-start, activity failures), e.g. `0.0.0.0:9464`. "
                                               "Unset: not served. The API serves its own, and its SDK's, on its "
                                               "port's `/metrics`")

    @field_validator("temporal_tls_ca", "temporal_tls_cert", "temporal_tls_key", "temporal_tls_server_name",
                     "temporal_api_key", "worker_metrics_address", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """`VAR: ${VAR:-}` in docker-compose.yml passes an unset variable on as an empty one."""
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _client_certificate_with_its_key(self) -> Settings:
        if (self.temporal_tls_cert is None) != (self.temporal_tls_key is None):
            given, missing = (("CERT", "KEY") if self.temporal_tls_key is None else ("KEY", "CERT"))
            raise ValueError(f"WT_TEMPORAL_TLS_{given} needs WT_TEMPORAL_TLS_{missing}: a client certificate and "
                             "its private key go together")
        return self

    @field_validator("worker_metrics_address")
    @classmethod
    def _metrics_address(cls, value: str | None) -> str | None:
        return None if value is None else host_and_port(value, "0.0.0.0:9464")

    @field_validator("temporal_address")
    @classmethod
    def _temporal_address(cls, value: str) -> str:
        return host_and_port(value, "temporal.internal:7233")

    @field_validator("api_host")
    @classmethod
    def _api_host(cls, value: str) -> str:
        if not is_host(value.strip()):
            raise ValueError("is not a valid IP address or host name (e.g. 127.0.0.1, 0.0.0.0 or ::)")
        return value.strip()

    @field_validator("task_queue")
    @classmethod
    def _task_queue(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty: the worker polls this queue and the API starts transfers on it")
        return value.strip()

    @field_validator("public_url", mode="before")
    @classmethod
    def _public_url(cls, value: object) -> object:
        if not isinstance(value, str) or not value.strip():
            return None if isinstance(value, str) else value
        url = urlsplit(value.strip())
        if url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment:
            raise ValueError("must be an http:// or https:// URL with a host, e.g. https://transfers.example.com")
        return value.strip().rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            url = make_url(value.strip())
        except ArgumentError:
            raise ValueError(f"is not a database URL: expected {DATABASES}") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(f"{url.get_backend_name()} is not supported: expected {DATABASES}")
        drivers = {"postgresql": ("psycopg", "PostgreSQL is reached with the psycopg driver: postgresql+psycopg://"),
                   "sqlite": ("pysqlite", "SQLite is reached with Python's own sqlite3: sqlite:///<file>")}
        driver, how = drivers[url.get_backend_name()]
        if url.get_driver_name() != driver:
            raise ValueError(f"{how}, not {url.drivername}://")
        return value.strip()

    @field_validator("admin_key", "webhook_secret", "metrics_token")
    @classmethod
    def _long_secret(cls, value: str | SecretStr | None) -> str | SecretStr | None:
        revealed = value.get_secret_value() if isinstance(value, SecretStr) else value
        if revealed is not None and len(revealed.strip()) < MIN_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters, and random (`python -c \"import "
                             "secrets; print(secrets.token_urlsafe(32))\"` makes one)")
        return value

    @field_validator("slack_signing_secret")
    @classmethod
    def _slack_signing_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < MIN_SLACK_SIGNING_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_SLACK_SIGNING_SECRET_LENGTH} characters: the Slack app's "
                             "signing secret, from its Basic Information page")
        return value

    @model_validator(mode="after")
    def _no_credentials_in_clear(self) -> Settings:
        """A password or key never crosses a network in clear: the rule WT_HUBSPOT_BASE_URL follows."""
        if (self.smtp_host and (self.smtp_username or self.smtp_password) and not self.smtp_starttls
                and not is_loopback(self.smtp_host)):
            raise ValueError("WT_SMTP_USERNAME and WT_SMTP_PASSWORD need WT_SMTP_STARTTLS=true: the login would "
                             "cross the network in clear (allowed only to an SMTP server on a loopback address)")
        if self.caldav_url and (self.caldav_username or self.caldav_password) and not safe_for_credentials(
                self.caldav_url.format(rep_id="rep")):
            raise ValueError("WT_CALDAV_URL must be https with a CalDAV login (WT_CALDAV_USERNAME, "
                             "WT_CALDAV_PASSWORD): plain http only to a loopback address")
        if self.trigger_llm_url and self.trigger_llm_key and not safe_for_credentials(self.trigger_llm_url):
            raise ValueError("WT_TRIGGER_LLM_URL must be https with WT_TRIGGER_LLM_KEY: plain http only to a "
                             "loopback address")
        return self

    @field_validator("trigger_policy")
    @classmethod
    def _policy_file(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_file():
            raise ValueError("no such file: a trigger policy file (TOML), like domain/triggers/policy.toml")
        return value

    @field_validator("trigger_llm_url")
    @classmethod
    def _model_endpoint(cls, value: str | None) -> str | None:
        return endpoint_url(value) if value else None

    @model_validator(mode="after")
    def _model_named(self) -> Settings:
        if self.trigger_llm_url and not self.trigger_llm_model:
            raise ValueError("WT_TRIGGER_LLM_URL needs WT_TRIGGER_LLM_MODEL: the model to ask")
        return self

    @field_validator("hubspot_base_url")
    @classmethod
    def _hubspot_url(cls, url: str) -> str:
        """The token goes with every request: never in clear beyond this host."""
        if not safe_for_credentials(url) or not urlsplit(url).hostname:
            raise ValueError("must be an https URL (plain http only to a loopback address)")
        return url.rstrip("/")

    @field_validator("hubspot_token")
    @classmethod
    def _hubspot_needs_a_token(cls, token: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if info.data.get("crm") == "hubspot" and (token is None or not token.get_secret_value().strip()):
            raise ValueError("WT_CRM=hubspot needs a HubSpot private app's token")
        return token

    @field_validator("caldav_url")
    @classmethod
    def _caldav_url(cls, value: str | None) -> str | None:
        return None if value is None else url_template(value)

    @model_validator(mode="after")
    def _caldav_needs_its_url(self) -> Settings:
        if self.calendar == "caldav" and self.caldav_url is None:
            raise ValueError("WT_CALENDAR=caldav needs WT_CALDAV_URL, each rep's calendar")
        return self

    @field_validator("callback_allow", "ops_email", "digest_to", "codec_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        if info.field_name == "codec_origins" and value.strip().startswith("["):  # a JSON list, as it once was
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise ValueError("expected comma-separated origins, or a JSON list of them") from None
        return [entry.strip() for entry in value.split(",") if entry.strip()]

    @field_validator("codec_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            url = urlsplit(origin)
            if url.scheme not in ("http", "https") or not url.hostname or url.path.strip("/") or url.query:
                raise ValueError(f"{origin!r} is not an origin: expected scheme://host[:port], e.g. "
                                 "https://temporal.example.com")
        return [origin.rstrip("/") for origin in origins]

    @field_validator("callback_allow")
    @classmethod
    def _allow_list_entries(cls, entries: list[str]) -> list[str]:
        return [allow_list_entry(entry) for entry in entries]


@lru_cache
def get_settings() -> Settings:
    return Settings()
