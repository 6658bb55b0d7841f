"""All configuration, from environment variables prefixed WT_ (and an optional .env file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DATA_DIR = Path(".data")
EventLoopName = Literal["uvloop", "asyncio"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WT_", env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{DATA_DIR}/app.db"
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "warm-transfer"
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)
    public_url: str | None = None  # how reps and bots reach the API, for links in alerts

    admin_key: str | None = None  # the first admin key; more are issued with POST /v1/api-keys
    webhook_secret: str = "change-me-webhook-secret"
    smtp_host: str | None = None  # e-mail (prospect confirmations, rep alerts) is sent only when this is set
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_sender: str = "Warm Transfer <warm-transfer@localhost>"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    slack_bot_token: str | None = None  # with slack_channel: rep alerts are posted to Slack too
    slack_channel: str | None = None  # the channel id alerts go to, e.g. C0123456789
    trigger_policy: str | None = None  # a policy file of your own; default: the bundled domain/triggers/policy.toml

    offer_timeout: int = Field(30, ge=5, le=3600, description="seconds a rep has to answer an offer")
    ack_timeout: int = Field(60, ge=5, le=3600, description="seconds an accepted rep has to take over")
    prepare_timeout: int = Field(120, ge=5, le=3600, description="seconds to wait for the prospect's note")
    choice_timeout: int = Field(600, ge=10, le=86400, description="seconds to wait for the prospect's choice")
    queue_recheck: int = Field(120, ge=5, le=3600, description="seconds between a queued transfer's checks")
    recovery_minutes: int = Field(15, ge=1, le=1440, description="minutes within which a rep calls back")
    feedback_wait: int = Field(7 * 86400, ge=60, description="seconds to wait for feedback before closing")
    avg_handle_seconds: int = Field(300, ge=10, description="typical conversation length, for wait estimates")
    workflow_cache: int = Field(1000, ge=10, le=100_000, description="transfers a worker keeps in memory; the others "
                                "are replayed from their history when they wake (about 0.15 MiB each, bench/README.md)")
    deliver_outbox: bool = Field(True, description="a `worker` process delivers the outbox (webhooks, e-mail, "
                                 "Slack); `up` delivers it from its API process instead, to share the load")
    wakeup_dir: Path | None = Field(None, description="a directory the API and worker processes of one host share: "
                                    "notices a worker writes wake the API's event streams at once (`up` sets it)")
    stream_poll_seconds: float = Field(0.2, gt=0, le=60, description="how often an event stream looks for notices "
                                       "no wake-up told it of (written on another host)")
    workflow_sandbox: bool = Field(False, description="run transfers in the Temporal SDK's sandbox (slower; the "
                                   "tests run every branch sandboxed, so production need not)")
    event_loop: EventLoopName = Field("uvloop", description="the processes' event loop: uvloop "
                                                     "(less CPU; asyncio's where uvloop is not installed) or asyncio")


@lru_cache
def get_settings() -> Settings:
    return Settings()
