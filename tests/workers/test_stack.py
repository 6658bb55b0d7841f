"""How `up` derives its settings, and how every command fails on a taken port or an absent API."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from config import Settings
from tests.conftest import CONVERTER, free_port, free_ports
from workers import event_loop
from workers.cli import _settings_error, main
from workers.devserver import DYNAMIC_CONFIG, DevServer, StackError, check_port_free
from workers.stack import (
    UP_CALLBACK_ALLOW,
    UP_STREAM_POLL_SECONDS,
    UpOptions,
    WorkerProcess,
    _serving_metrics,
    bind_api_socket,
    embedded_settings,
)
from workers.telemetry import Telemetry
from workers.temporal import cluster_connection


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_up_keeps_its_data_under_the_data_dir_and_runs_temporal_locally(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WT_DATABASE_URL", raising=False)
    monkeypatch.delenv("WT_STREAM_POLL_SECONDS", raising=False)
    monkeypatch.delenv("WT_CALLBACK_ALLOW", raising=False)
    options = UpOptions(temporal_port=17001, ui_port=18001, api_port=19001, data_dir=tmp_path)
    settings = embedded_settings(Settings(_env_file=None), options)
    assert settings.database_url == f"sqlite:///{tmp_path / 'app.db'}"
    assert settings.temporal_address == "127.0.0.1:17001"
    assert settings.api_port == 19001
    assert settings.wakeup_dir == tmp_path / "wakeup" and settings.stream_poll_seconds == UP_STREAM_POLL_SECONDS
    assert settings.callback_allow == UP_CALLBACK_ALLOW  # its demo's bots may take webhooks on this host


def test_up_respects_an_explicit_callback_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WT_CALLBACK_ALLOW", "hooks.internal")
    assert embedded_settings(Settings(_env_file=None), UpOptions()).callback_allow == ["hooks.internal"]


def test_up_respects_an_explicit_stream_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WT_STREAM_POLL_SECONDS", "0.5")
    assert embedded_settings(Settings(_env_file=None), UpOptions()).stream_poll_seconds == 0.5


def test_up_respects_an_explicit_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WT_DATABASE_URL", "postgresql+psycopg://u@db/x")
    settings = embedded_settings(Settings(_env_file=None), UpOptions())
    assert settings.database_url == "postgresql+psycopg://u@db/x"


def test_a_taken_port_is_a_clear_error(taken_port: int) -> None:
    with pytest.raises(StackError, match=f"Temporal port 127.0.0.1:{taken_port} is taken"):
        check_port_free("127.0.0.1", taken_port, "Temporal")
    with pytest.raises(StackError, match="--api-port or WT_API_PORT"):
        bind_api_socket("127.0.0.1", taken_port)


def test_the_api_socket_holds_its_port_against_other_listeners() -> None:
    """Go listeners (the dev server's UI) set SO_REUSEADDR, which takes a port that is only bound, not listened on."""
    with bind_api_socket("127.0.0.1", 0) as api, socket.socket() as stranger:
        stranger.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        with pytest.raises(OSError):
            stranger.bind(api.getsockname())


def test_up_needs_three_different_ports(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    port = str(free_port())
    assert main(["up", "--ui-port", port, "--api-port", port, "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "three different ports" in err and f"--ui-port {port}, --api-port {port}" in err
    assert not (tmp_path / "temporal.log").exists()  # nothing was started


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
def test_the_api_answers_without_waiting_for_delayed_acks(loop: str) -> None:
    """Nagle's algorithm is off on every accepted connection, on either event loop (asyncio only turns it off on
    TCP-proto sockets)."""

    async def nodelay_of_an_accepted_connection() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def on_connect(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted.set_result(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        sock = bind_api_socket("127.0.0.1", 0)
        server = await asyncio.start_server(on_connect, sock=sock)
        async with server:
            _, writer = await asyncio.open_connection(*sock.getsockname())
            nodelay = await asyncio.wait_for(accepted, 10)
            writer.close()
        return nodelay

    assert event_loop.run(nodelay_of_an_accepted_connection(), loop) != 0


def test_up_stops_at_once_when_the_api_port_is_taken(taken_port: int, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    assert main(["up", "--api-port", str(taken_port), "--data-dir", str(tmp_path)]) == 1
    assert f"API port 127.0.0.1:{taken_port} is taken" in capsys.readouterr().err
    assert not (tmp_path / "temporal.log").exists()  # nothing was started


def test_the_demo_says_clearly_when_the_api_is_not_running(capsys: pytest.CaptureFixture) -> None:
    assert main(["demo", "--api", f"http://127.0.0.1:{free_port()}"]) == 1
    assert "Cannot reach the Warm Transfer API" in capsys.readouterr().err


def test_a_dev_server_that_cannot_start_shows_its_own_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "temporal.db").mkdir()  # SQLite cannot open a directory: the server exits at once
    ports = [str(port) for port in free_ports(3)]
    assert main(["up", "--temporal-port", ports[0], "--ui-port", ports[1], "--api-port", ports[2],
                 "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "The Temporal dev server did not start: it exited with code 1" in err
    assert "unable to open database file" in err  # the tail of the server's log


def test_the_dev_server_gets_every_dynamic_config_setting(tmp_path: Path) -> None:
    """`up`'s dev server runs with the same latency settings docker-compose.yml mounts for Temporal."""
    settings = yaml.safe_load(DYNAMIC_CONFIG.read_text())
    assert settings["history.transferProcessorMaxPollRPS"] == [{"value": 1000}]
    assert settings["matching.numTaskqueueReadPartitions"] == [{"value": 1}]
    command = DevServer("127.0.0.1", 7233, 8233, tmp_path, CONVERTER, "http://127.0.0.1:8000/codec").command()
    given = [command[i + 1] for i, arg in enumerate(command) if arg == "--dynamic-config-value"]
    assert given == [f"{key}={setting['value']}" for key, [setting] in settings.items()]
    assert command[command.index("--ui-codec-endpoint") + 1] == "http://127.0.0.1:8000/codec"  # its UI decrypts


def test_a_bad_setting_is_a_clear_error_naming_its_variable(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("WT_EVENT_LOOP", "trio")
    monkeypatch.setenv("WT_OFFER_TIMEOUT", "1")
    assert main(["worker"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "WT_EVENT_LOOP='trio': Input should be 'uvloop' or 'asyncio'" in err
    assert "WT_OFFER_TIMEOUT='1': Input should be greater than or equal to 5" in err


@pytest.mark.parametrize(("variable", "value", "shown"), [
    ("WT_DATABASE_URL", "garbage", "WT_DATABASE_URL='garbage': is not a database URL: expected sqlite:///<file> or "
                                   "postgresql+psycopg://"),
    ("WT_DATABASE_URL", "mysql://wt:hunter2@db/wt", "WT_DATABASE_URL='mysql://wt:***@db/wt': mysql is not supported"),
    ("WT_CODEC_ORIGINS", "x.example", "WT_CODEC_ORIGINS='x.example': 'x.example' is not an origin"),
    ("WT_TRIGGER_POLICY", "/nonexistent", "WT_TRIGGER_POLICY='/nonexistent': no such file"),
    ("WT_TASK_QUEUE", "", "WT_TASK_QUEUE='': must not be empty"),
    ("WT_PUBLIC_URL", "javascript:alert(1)", "WT_PUBLIC_URL='javascript:alert(1)': must be an http:// or https://"),
    ("WT_TEMPORAL_ADDRESS", "garbage", "WT_TEMPORAL_ADDRESS='garbage': expected host:port"),
    ("WT_API_HOST", "999.1.1.1", "WT_API_HOST='999.1.1.1': is not a valid IP address or host name"),
])
def test_each_bad_setting_is_one_line_naming_its_variable(variable: str, value: str, shown: str,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["api"]) == 2
    err = capsys.readouterr().err
    assert shown in err and "Traceback" not in err and "hunter2" not in err
    assert err.count("\n") == 2  # the heading and this line


@pytest.mark.parametrize("url", ["postgresql+psycopg://wt:hunter2@127.0.0.1:1/wt", "sqlite:////proc/1/none/app.db"])
def test_a_database_that_cannot_be_reached_is_one_line_naming_the_setting(url: str, monkeypatch: pytest.MonkeyPatch,
                                                                          capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("WT_DATABASE_URL", url)
    assert main(["migrate"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"warm-transfer migrate: WT_DATABASE_URL={url.replace('hunter2', '***')}: the app "
                          "database cannot be used: ")
    assert err.count("\n") == 1 and "hunter2" not in err and "Traceback" not in err


def test_a_bad_policy_file_or_key_ring_names_its_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "policy.toml").write_text("not toml [")
    monkeypatch.setenv("WT_TRIGGER_POLICY", str(tmp_path / "policy.toml"))
    assert main(["worker"]) == 2
    assert "bad configuration: WT_TRIGGER_POLICY: " in capsys.readouterr().err
    monkeypatch.delenv("WT_TRIGGER_POLICY")
    monkeypatch.setenv("WT_ENCRYPTION_KEYS", "")
    monkeypatch.setenv("WT_DATABASE_URL", f"sqlite:///{tmp_path}/app.db")
    assert main(["worker"]) == 2
    assert "warm-transfer worker: bad configuration: WT_ENCRYPTION_KEYS: no key given" in capsys.readouterr().err


def test_an_api_host_that_is_no_address_of_this_host_is_said_so() -> None:
    with pytest.raises(StackError, match="WT_API_HOST=999.1.1.1 is not a valid address to listen on"):
        bind_api_socket("999.1.1.1", free_port())
    with pytest.raises(StackError, match="WT_API_HOST=192.0.2.1 is not an address of this host"):
        bind_api_socket("192.0.2.1", free_port())


def test_a_bad_secret_setting_is_named_but_its_value_never_shown() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(admin_key=12345678, offer_timeout=1)
    message = _settings_error(raised.value)
    assert "WT_ADMIN_KEY=<hidden>: Input should be a valid string" in message and "12345678" not in message
    assert "WT_OFFER_TIMEOUT=1: Input should be greater than or equal to 5" in message


def test_a_rule_across_settings_is_told_without_echoing_any_setting() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None, encryption_keys="k1:secret-value", temporal_tls_cert=__file__)
    message = _settings_error(raised.value)
    assert "WT_TEMPORAL_TLS_CERT needs WT_TEMPORAL_TLS_KEY" in message and "secret-value" not in message


def test_ups_dev_server_gets_its_environment_but_not_the_otel_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Temporal server reads OTEL_* too, and refuses to start on `OTEL_TRACES_EXPORTER=console`."""
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    monkeypatch.setenv("GOGC", "400")
    environment = DevServer.environment()
    assert environment["GOGC"] == "400" and not any(name.startswith("OTEL_") for name in environment)


def test_ups_worker_reaches_its_dev_server_in_clear_whatever_else_is_set(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WT_TEMPORAL_API_KEY", "cloud-key")
    settings = embedded_settings(Settings(_env_file=None), UpOptions(data_dir=tmp_path))
    environment = WorkerProcess(settings, "info").environment()
    assert (environment["WT_TEMPORAL_TLS"], environment["WT_TEMPORAL_API_KEY"]) == ("false", "")
    monkeypatch.setattr(os, "environ", environment)
    assert cluster_connection(Settings(_env_file=None), CONVERTER).tls is False
    assert Settings(_env_file=None).temporal_api_key is None


def test_a_taken_worker_metrics_address_is_a_clear_error(taken_port: int) -> None:
    serving = _serving_metrics(f"127.0.0.1:{taken_port}", Telemetry.of("worker", sdk_metrics=True))
    with pytest.raises(StackError, match=f"WT_WORKER_METRICS_ADDRESS=127.0.0.1:{taken_port}: cannot listen there"):
        serving.__enter__()
