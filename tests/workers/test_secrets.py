"""The secrets a process cannot run without: `up` makes and keeps them; `api` and `worker` refuse to start without."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from config import Settings
from workers.codec import KeyRing
from workers.secrets import ENCRYPTION_KEYS_FILE, WEBHOOK_SECRET_FILE, MissingSecret, encryption_keys, kept_in

UNSET = {"encryption_keys": None, "webhook_secret": None}
SECRET = "a-webhook-secret-of-32-characters-or-more"
ADMIN_KEY = "an-admin-key-of-32-characters-or-more"


def test_up_makes_its_secrets_once_readable_by_their_owner_only(tmp_path):
    first = kept_in(tmp_path, Settings(**UNSET))
    folder = tmp_path / "secrets"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in (ENCRYPTION_KEYS_FILE, WEBHOOK_SECRET_FILE):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    assert len(KeyRing.parse(first.encryption_keys.get_secret_value()).keys) == 1
    assert len(first.webhook_secret.get_secret_value()) >= 32
    again = kept_in(tmp_path, Settings(**UNSET))  # the next run of `up` on the same data
    assert again.encryption_keys == first.encryption_keys and again.webhook_secret == first.webhook_secret


def test_secrets_set_in_the_environment_win_and_nothing_is_written(tmp_path):
    given = Settings(encryption_keys=KeyRing.new_entry("ops"), webhook_secret="from-the-vault-" + "v" * 32)
    assert kept_in(tmp_path, given) == given
    assert not (tmp_path / "secrets").exists()


def test_a_secret_file_others_can_read_is_refused(tmp_path):
    kept_in(tmp_path, Settings(**UNSET))
    (tmp_path / "secrets" / WEBHOOK_SECRET_FILE).chmod(0o644)
    with pytest.raises(MissingSecret, match="can be read by others"):
        kept_in(tmp_path, Settings(**UNSET))


def test_without_a_key_ring_nothing_runs_unless_running_in_clear_is_asked_for(tmp_path):
    with pytest.raises(MissingSecret, match="WT_ENCRYPTION_KEYS is not set"):
        encryption_keys(Settings(**UNSET))
    assert encryption_keys(Settings(encryption_keys=None, allow_unencrypted=True)) is None
    assert not (tmp_path / "secrets").exists()
    assert kept_in(tmp_path, Settings(encryption_keys=None, allow_unencrypted=True)).encryption_keys is None


def _run(command: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WT_")}
    return subprocess.run([sys.executable, "-m", "workers.cli", command], env={**clean, **env},
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("command", ["api", "worker"])
def test_api_and_worker_refuse_to_start_without_their_secrets(command, tmp_path):
    database = {"WT_DATABASE_URL": f"sqlite:///{tmp_path}/app.db", "WT_TEMPORAL_ADDRESS": "127.0.0.1:1",
                "WT_ADMIN_KEY": ADMIN_KEY}
    no_key = _run(command, WT_WEBHOOK_SECRET=SECRET, **database)
    assert no_key.returncode == 2 and "WT_ENCRYPTION_KEYS is not set" in no_key.stderr
    no_secret = _run(command, WT_ALLOW_UNENCRYPTED="true", **database)
    assert no_secret.returncode == 2 and "WT_WEBHOOK_SECRET is not set" in no_secret.stderr
    bad_ring = _run(command, WT_ENCRYPTION_KEYS="k1:c2hvcnQ=", WT_WEBHOOK_SECRET=SECRET, **database)
    assert bad_ring.returncode == 2 and "must be 32 bytes" in bad_ring.stderr and "c2hvcnQ" not in bad_ring.stderr


def test_the_api_refuses_to_start_without_an_admin_key(tmp_path):
    settings = {"WT_DATABASE_URL": f"sqlite:///{tmp_path}/app.db", "WT_TEMPORAL_ADDRESS": "127.0.0.1:1",
                "WT_ENCRYPTION_KEYS": KeyRing.new_entry("k1"), "WT_WEBHOOK_SECRET": SECRET}
    unset = _run("api", **settings)
    assert unset.returncode == 2 and "WT_ADMIN_KEY is not set" in unset.stderr and "Traceback" not in unset.stderr
    for blank in ("", "  "):
        empty = _run("api", WT_ADMIN_KEY=blank, **settings)
        assert empty.returncode == 2 and "WT_ADMIN_KEY=<hidden>: must be at least 32 characters" in empty.stderr


SECRET_MINIMUMS = {"WT_ADMIN_KEY": 32, "WT_WEBHOOK_SECRET": 32, "WT_SLACK_SIGNING_SECRET": 16}


def test_short_secrets_are_refused_at_start_each_named_with_its_minimum(tmp_path):
    too_short = {variable: variable[3] * (minimum - 1) for variable, minimum in SECRET_MINIMUMS.items()}
    short = _run("worker", **too_short, WT_DATABASE_URL=f"sqlite:///{tmp_path}/app.db")
    assert short.returncode == 2 and "Traceback" not in short.stderr
    for variable, minimum in SECRET_MINIMUMS.items():
        assert f"{variable}=<hidden>: must be at least {minimum} characters" in short.stderr
        assert variable[3] * (minimum - 1) not in short.stderr
        Settings(**{variable.removeprefix("WT_").lower(): "x" * minimum})  # long enough
