"""All configuration, from environment variables prefixed WT_ (and an optional .env file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from integrations.notify.destinations import allow_list_entry
from integrations.triggers.chat import endpoint_url

DATA_DIR = Path(".data")
EventLoopName = Literal["uvloop", "asyncio"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WT_", env_file=".env", extra="ignore")

    database_url: str = Field(f"sqlite:///{DATA_DIR}/app.db", description="the app database (reps, seats, queue, "
                              "transfers, outbox): `sqlite:///<file>`, or `postgresql+psycopg://<user>:<password>@"
                              "<host>/<database>` for PostgreSQL; `up` keeps it in its `--data-dir` unless this is set")
    temporal_address: str = Field("127.0.0.1:7233", description="the Temporal frontend, `host:port`; `up` runs its "
                                  "own and sets this from `--temporal-port`")
    temporal_namespace: str = Field("default", description="the Temporal namespace transfers run in")
    task_queue: str = Field("warm-transfer", description="the Temporal task queue the worker polls and the API "
                            "starts transfers on")
    api_host: str = Field("127.0.0.1", description="the address the API listens on")
    api_port: int = Field(8000, ge=1, le=65535, description="the port the API listens on (`up --api-port` "
                          "overrides it)")
    public_url: str | None = Field(None, description="how reps reach the API, e.g. `https://transfers.example.com`, "
                                   "for the console link in alert e-mails")

    admin_key: str | None = Field(None, description="the first admin key; more keys are issued with "
                                  "`POST /v1/api-keys`")
    webhook_secret: SecretStr | None = Field(None, description="the HMAC-SHA256 secret webhooks are signed with "
                                             "(`X-WT-Signature`); `api` and `worker` refuse to start without one, "
                                             "`up` makes one in its data directory")
    encryption_keys: SecretStr | None = Field(None, description="the key ring every payload to Temporal is encrypted "
                                              "with (AES-256-GCM): `<id>:<base64 of 32 bytes>` entries, comma-"
                                              "separated, newest first. The first encrypts, all decrypt, so a key is "
                                              "rotated by putting a new one first. `api` and `worker` refuse to start "
                                              "without it (unless `WT_ALLOW_UNENCRYPTED`); `up` makes one in its data "
                                              "directory")
    allow_unencrypted: bool = Field(False, description="run without `WT_ENCRYPTION_KEYS`: prospects' personal data "
                                    "then sits in clear in Temporal's histories")
    codec_origins: list[str] = Field([], description="the origins of Temporal UIs allowed to call the codec server "
                                     "(`/codec`) from the browser, e.g. `[\"https://temporal.example.com\"]`; `up` "
                                     "allows its own UI")
    smtp_host: str | None = Field(None, description="an SMTP server; when set, prospect confirmations and rep "
                                  "alerts (in the same words as the console card) are e-mailed")
    smtp_port: int = Field(25, ge=1, le=65535, description="the SMTP server's port")
    smtp_sender: str = Field("Warm Transfer <warm-transfer@localhost>", description="the sender of those e-mails")
    smtp_starttls: bool = Field(False, description="whether to secure the SMTP connection with STARTTLS")
    smtp_username: str | None = Field(None, description="the SMTP login, when the server asks for one")
    smtp_password: str | None = Field(None, description="the SMTP login's password")
    slack_bot_token: str | None = Field(None, description="a Slack bot token; with `WT_SLACK_CHANNEL`, rep alerts "
                                        "are posted to Slack too (Web API `chat.postMessage`), in the same words")
    slack_channel: str | None = Field(None, description="the Slack channel id alerts go to, e.g. `C0123456789`")
    crm_timeout: float = Field(3.0, gt=0, le=60, description="seconds a CRM call may take. A CRM that fails, takes "
                               "longer or answers nonsense is noted as unavailable in the transfer's timeline and the "
                               "rep's package, and the transfer goes on without it")
    trigger_meaning: bool = Field(True, description="weigh the trigger rules with the meaning model we ship (a "
                                  "multilingual sentence encoder and models trained on labelled conversations; about "
                                  "90 MB and a second to load in the API); `false` answers `/v1/triggers/evaluate` "
                                  "with the policy's rules alone")
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
                                              "<key>`; unset for a server that wants none")
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
                                 "e-mail, Slack); `up` turns it off for its worker and delivers from its API process")
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
    event_loop: EventLoopName = Field("uvloop", description="the event loop of `up`, `api` and `worker`: uvloop "
                                      "costs about a tenth less of the worker's CPU; where it is not installed (as on "
                                      "Windows), asyncio's own runs")

    @field_validator("trigger_llm_url")
    @classmethod
    def _model_endpoint(cls, value: str | None) -> str | None:
        return endpoint_url(value) if value else None

    @model_validator(mode="after")
    def _model_named(self) -> Settings:
        if self.trigger_llm_url and not self.trigger_llm_model:
            raise ValueError("WT_TRIGGER_LLM_URL needs WT_TRIGGER_LLM_MODEL: the model to ask")
        return self

    @field_validator("callback_allow", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return [entry for entry in value.split(",") if entry.strip()] if isinstance(value, str) else value

    @field_validator("callback_allow")
    @classmethod
    def _allow_list_entries(cls, entries: list[str]) -> list[str]:
        return [allow_list_entry(entry) for entry in entries]


@lru_cache
def get_settings() -> Settings:
    return Settings()
