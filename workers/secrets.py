"""The secrets a process cannot run without, and the ones `up` keeps in its data directory.

`up` makes them on its first run, readable by their owner only (0600, in a 0700 directory), and uses them on
every later run: the payload encryption key ring and the webhook secret. `api` and `worker` take them from the
environment and refuse to start without them.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr

from config import Settings
from workers.codec import KeyRing, KeyRingError

ENCRYPTION_KEYS_FILE = "encryption-keys"
WEBHOOK_SECRET_FILE = "webhook-secret"


class MissingSecret(RuntimeError):
    """A secret the process cannot run without is not configured, or is kept where others can read it."""


def encryption_keys(settings: Settings) -> KeyRing | None:
    """The key ring payloads are encrypted with; None only where running unencrypted was asked for."""
    if settings.encryption_keys is not None:
        try:
            return KeyRing.parse(settings.encryption_keys.get_secret_value())
        except KeyRingError as err:
            raise KeyRingError(f"WT_ENCRYPTION_KEYS: {err}") from None
    if settings.allow_unencrypted:
        return None
    raise MissingSecret("WT_ENCRYPTION_KEYS is not set: prospects' personal data would sit in clear in Temporal. Set "
                        "a key ring (`<id>:<base64 of 32 random bytes>`; `python -c \"import workers.codec as c; "
                        "print(c.KeyRing.new_entry('k1'))\"` makes one), or WT_ALLOW_UNENCRYPTED=true to run without.")


def webhook_secret(settings: Settings) -> str:
    if settings.webhook_secret is None:
        raise MissingSecret("WT_WEBHOOK_SECRET is not set: webhooks to bots are signed with it. Set a long random "
                            "value (`up` makes one in its data directory).")
    return settings.webhook_secret.get_secret_value()


def admin_key(settings: Settings) -> str:
    """The admin key `api` stands for; `up` has its demo's admin key and needs none."""
    if settings.admin_key is None:
        raise MissingSecret("WT_ADMIN_KEY is not set: the API needs the admin key that manages reps and keys. Set a "
                            "long random value (at least 32 characters; `python -c \"import secrets; "
                            "print(secrets.token_urlsafe(32))\"` makes one).")
    return settings.admin_key


def kept_in(data_dir: Path, settings: Settings) -> Settings:
    """`settings` with the secrets the environment does not set taken from `data_dir`, made there if missing."""
    update, kept = {}, data_dir / "secrets"
    if settings.encryption_keys is None and not settings.allow_unencrypted:
        key_id = f"up-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(2)}"
        update["encryption_keys"] = _kept(kept / ENCRYPTION_KEYS_FILE, lambda: KeyRing.new_entry(key_id))
    if settings.webhook_secret is None:
        update["webhook_secret"] = _kept(kept / WEBHOOK_SECRET_FILE, lambda: secrets.token_urlsafe(32))
    return settings.model_copy(update=update)


def _kept(path: Path, make: Callable[[], str]) -> SecretStr:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise MissingSecret(f"{path} can be read by others; `chmod 600 {path}` if it is yours.") from None
        return SecretStr(path.read_text().strip())
    value = make()
    with os.fdopen(fd, "w") as file:
        file.write(value + "\n")
    return SecretStr(value)
