"""docker-compose.yml and the Dockerfile describe the scale-out shape (Docker itself cannot run here)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from config import SCALE_OUT_PROCESSES, Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_stack_has_temporal_on_postgres_its_ui_the_api_and_workers(compose: dict) -> None:
    services = compose["services"]
    assert set(services) == {"postgresql", "temporal", "temporal-ui", "api", "worker"}
    assert services["temporal"]["image"].startswith("temporalio/auto-setup:")
    assert services["temporal"]["environment"]["POSTGRES_SEEDS"] == "postgresql"
    assert services["temporal-ui"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_temporal_gets_the_dynamic_config_that_up_gives_its_dev_server(compose: dict) -> None:
    temporal = compose["services"]["temporal"]
    mounted = "/etc/temporal/" + temporal["environment"]["DYNAMIC_CONFIG_FILE_PATH"]
    assert f"./config/temporal-dynamic-config.yaml:{mounted}:ro" in temporal["volumes"]
    assert (ROOT / "config" / "temporal-dynamic-config.yaml").is_file()


@pytest.mark.parametrize("name", ["api", "worker"])
def test_api_and_worker_run_the_cli_against_temporal_and_postgres(compose: dict, name: str) -> None:
    service = compose["services"][name]
    assert service["build"] == "."
    assert service["command"][0] == "warm-transfer" and service["command"][-1] == name
    env = service["environment"]
    assert env["WT_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert env["WT_TEMPORAL_ADDRESS"] == "temporal:7233"
    assert env["WT_ADMIN_KEY"].startswith("${WT_ADMIN_KEY")
    assert service["depends_on"]["postgresql"]["condition"] == "service_healthy"


NEEDED = {name: field.json_schema_extra for name, field in Settings.model_fields.items()
          if isinstance(field.json_schema_extra, dict) and "needed_by" in field.json_schema_extra}


def test_settings_say_what_the_scale_out_processes_need() -> None:
    assert {"database_url", "temporal_address", "encryption_keys", "webhook_secret"} <= set(NEEDED)
    assert all(NEEDED[name]["secret"] for name in ("encryption_keys", "webhook_secret", "admin_key"))


@pytest.mark.parametrize("process", SCALE_OUT_PROCESSES)
def test_compose_gives_each_process_every_setting_it_needs_and_its_secrets_as_required_variables(
        compose: dict, process: str) -> None:
    env = compose["services"][process]["environment"]
    for name, needed in NEEDED.items():
        if process not in needed["needed_by"]:
            continue
        variable = f"WT_{name.upper()}"
        assert env.get(variable), f"docker-compose.yml does not set {variable} for {process}"
        if needed["secret"]:  # `${VAR:?why}`: compose refuses to start without it, and it stays out of the file
            assert re.fullmatch(rf"\$\{{{variable}:\?[^}}]+\}}", env[variable]), f"{variable}: {env[variable]}"
    assert "WT_ALLOW_UNENCRYPTED" not in env  # prospects' data is encrypted in Temporal


@pytest.mark.parametrize("process", SCALE_OUT_PROCESSES)
def test_compose_sets_only_settings_the_code_reads_to_values_it_accepts(compose: dict, process: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    env = compose["services"][process]["environment"]
    known = {f"WT_{name.upper()}" for name in Settings.model_fields}
    assert {variable for variable in env if variable.startswith("WT_")} <= known
    for variable, value in env.items():
        if variable.startswith("WT_") and "${" not in value:  # the rest the operator sets
            monkeypatch.setenv(variable, value)
    Settings(_env_file=None)


def test_the_image_installs_the_package_and_runs_the_cli() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert "RUN pip install ." in dockerfile
    assert 'CMD ["warm-transfer"' in dockerfile
    for package in ("config", "domain", "store", "integrations", "activities", "workflows", "api", "workers"):
        assert f"COPY {package} ./{package}" in dockerfile


def _compose_available() -> bool:
    docker = shutil.which("docker")
    return bool(docker) and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _compose_available(), reason="the docker compose plugin is not installed")
def test_docker_compose_accepts_the_file() -> None:
    env = {**os.environ, "WT_ADMIN_KEY": "k" * 32, "WT_WEBHOOK_SECRET": "s" * 32, "WT_ENCRYPTION_KEYS": "k1:x",
           "POSTGRES_PASSWORD": "p"}
    checked = subprocess.run(["docker", "compose", "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
                             capture_output=True, text=True, env=env)
    assert checked.returncode == 0, checked.stderr
