"""WT_LOG_FORMAT=json: one JSON object per line, with the transfer each line is about, never personal data.
The real `api` and `worker` processes against the dev server, driven over HTTP; and the formatter on its own."""

from __future__ import annotations

import json
import logging
import signal
import sys
import time
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider

from api import log_context
from config import Settings
from domain.reps import RepProfile
from integrations.crm.guarded import GuardedCRM
from tests.chaos.test_integrations import UnreachableCRM
from tests.conftest import TEST_KEY_RING, free_ports
from tests.e2e.conftest import Stack, stack_on
from tests.up_process import BIN, Running
from tests.workflows.harness import ALL_WEEK
from workers.logs import JsonLines
from workers.services import build_services

ADMIN_KEY = "wt_admin_logs_test_key_0123456789abcdef"
PROSPECT = {"name": "Kim Park", "email": "kim.park@tiny.example", "phone": "+1-555-010-9999", "company": "Tiny Co"}
NOTE = "Kim wants the call after 4pm"


def _seed(database_url: str) -> tuple[str, str]:
    """A rep on shift and a bot, in the app database both processes use; the bot's and the rep's keys."""
    services = build_services(Settings(_env_file=None, database_url=database_url))
    try:
        services.reps.upsert(RepProfile(id="lee", name="Lee Rivera", team="smb", working_hours=ALL_WEEK), "available")
        now = datetime.now(UTC)
        return services.keys.issue("bot", None, now), services.keys.issue("rep", "lee", now)
    finally:
        services.db.dispose()


def _until_ready(api: str, processes: list[Running]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert all(p.process.poll() is None for p in processes), "\n".join(p.output for p in processes)
        try:
            if httpx.get(f"{api}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail("the API did not become ready:\n" + "\n".join(p.output for p in processes))


@pytest.mark.e2e
@pytest.mark.timeout(180)
def test_api_and_worker_write_json_lines_with_the_transfer_and_no_personal_data(local_env, tmp_path: Path) -> None:
    api_port, metrics_port = free_ports(2)
    database_url = f"sqlite:///{tmp_path / 'app.db'}"
    bot_key, rep_key = _seed(database_url)
    settings = {"WT_TEMPORAL_ADDRESS": local_env.client.service_client.config.target_host,
                "WT_DATABASE_URL": database_url, "WT_TASK_QUEUE": f"logs-{api_port}", "WT_API_PORT": str(api_port),
                "WT_ENCRYPTION_KEYS": TEST_KEY_RING, "WT_WEBHOOK_SECRET": "logs-test-webhook-secret-0123456789ab",
                "WT_ADMIN_KEY": ADMIN_KEY, "WT_WAKEUP_DIR": str(tmp_path / "wakeup"), "WT_TRIGGER_MEANING": "false",
                "WT_LOG_FORMAT": "json", "WT_WORKER_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}",
                "WT_TEMPORAL_SDK_METRICS": "true"}
    worker = Running([str(BIN), "--log-level", "info", "worker"], cwd=tmp_path, settings=settings)
    api = Running([str(BIN), "--log-level", "info", "api"], cwd=tmp_path, settings=settings)
    url = f"http://127.0.0.1:{api_port}"
    try:
        _until_ready(url, [worker, api])
        bot, rep = {"Authorization": f"Bearer {bot_key}"}, {"Authorization": f"Bearer {rep_key}"}
        body = {"routing": {"team": "smb"}, "context": {"prospect": PROSPECT}}
        started = httpx.post(f"{url}/v1/transfers", json=body, headers=bot, timeout=30)
        assert started.status_code == 201, started.text
        transfer_id = started.json()["transfer_id"]
        noted = httpx.post(f"{url}/v1/transfers/{transfer_id}/prospect", json={"action": "note", "note": NOTE},
                           headers=bot, timeout=30)
        assert noted.json()["status"] == "offered", noted.text
        assert httpx.post(f"{url}/v1/transfers/{transfer_id}/rep", json={"action": "accept"}, headers=rep,
                          timeout=30).json()["status"] == "connecting"
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as scraped:
            worker_metrics = scraped.read().decode()
        api_metrics = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=10).text
    finally:
        for process in (api, worker):
            process.process.send_signal(signal.SIGTERM)
        for process in (api, worker):
            process.process.wait(timeout=30)

    lines = {name: [json.loads(line) for line in process.lines if line.strip()]  # each line one JSON object
             for name, process in (("api", api), ("worker", worker))}
    for name, written in lines.items():
        assert written, f"{name} wrote nothing"
        assert all({"time", "level", "logger", "message"} <= set(line) for line in written)
    assert all(line.get("transfer_id") == transfer_id for name in lines for line in lines[name]
               if transfer_id in line["message"])
    requests = [line["message"].split('"')[1] for line in lines["api"] if line.get("transfer_id") == transfer_id]
    assert requests == ["POST /v1/transfers HTTP/1.1",  # its id made while the request was served
                        f"POST /v1/transfers/{transfer_id}/prospect HTTP/1.1",
                        f"POST /v1/transfers/{transfer_id}/rep HTTP/1.1"]
    everything = api.output + worker.output
    for personal in (*PROSPECT.values(), NOTE):
        assert personal not in everything

    assert 'temporal_workflow_task_schedule_to_start_latency_bucket{' in worker_metrics  # the worker's SDK
    assert 'activity_type="publish"' in worker_metrics
    assert "temporal_request{" in api_metrics and "warm_transfer_transfers " in api_metrics  # the API's, and ours


async def test_a_transfers_activity_log_names_the_transfer(local_env, tmp_path: Path) -> None:
    """The Temporal SDK's activity logger, in a real transfer: the CRM is down, and routing says so."""
    lines: list[str] = []

    class Collected(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collected()
    handler.setFormatter(JsonLines())
    sdk_logger = logging.getLogger("temporalio.activity")
    sdk_logger.addHandler(handler)

    def crm_down(stack: Stack) -> None:
        crm = GuardedCRM(UnreachableCRM(stack.services.db), timeout=2)
        stack.services.integrations = replace(stack.services.integrations, crm=crm)

    try:
        async with stack_on(local_env.client, tmp_path, crm_down) as stack:
            stack.rep("lee", team="smb")
            async with stack.http(stack.bot_key) as bot:
                body = {"routing": {"team": "smb"}, "context": {"prospect": PROSPECT}}
                started = await bot.post("/v1/transfers", json=body)
            transfer_id = started.json()["transfer_id"]
    finally:
        sdk_logger.removeHandler(handler)

    [crm] = [json.loads(line) for line in lines if "CRM unavailable" in line]
    assert crm["transfer_id"] == transfer_id and crm["level"] == "WARNING"
    assert not any(personal in "".join(lines) for personal in PROSPECT.values())


def _record(message: str = "something happened", **extra) -> logging.LogRecord:
    record = logging.LogRecord("warm_transfer.test", logging.WARNING, __file__, 1, message, None, None)
    record.__dict__.update(extra)
    return record


def test_a_line_names_the_transfer_of_a_transfers_workflow_or_activity_and_of_the_request_served() -> None:
    formatter = JsonLines()
    activity = {"activity_type": "publish", "workflow_id": "xfer_1", "workflow_type": "TransferWorkflow"}
    assert json.loads(formatter.format(_record(temporal_activity=activity)))["transfer_id"] == "xfer_1"
    workflow = {"workflow_id": "xfer_2", "workflow_type": "TransferWorkflow", "attempt": 1}
    assert json.loads(formatter.format(_record(temporal_workflow=workflow)))["transfer_id"] == "xfer_2"
    other = {"workflow_id": "watchdog", "workflow_type": "Watchdog"}
    assert "transfer_id" not in json.loads(formatter.format(_record(temporal_workflow=other)))
    assert json.loads(formatter.format(_record(transfer_id="xfer_3")))["transfer_id"] == "xfer_3"
    token = log_context.transfer_id.set("xfer_4")
    try:
        assert json.loads(formatter.format(_record()))["transfer_id"] == "xfer_4"
    finally:
        log_context.transfer_id.reset(token)


def test_a_line_holds_its_fields_only_never_what_else_a_record_carries() -> None:
    record = _record("transfer %s: CRM down", prospect=PROSPECT, request_body={"note": NOTE})
    record.args = ("xfer_5",)
    line = json.loads(JsonLines().format(record))
    assert set(line) == {"time", "level", "logger", "message"}
    assert line["message"] == "transfer xfer_5: CRM down" and line["level"] == "WARNING"


def test_a_line_carries_its_exception_and_the_trace_it_belongs_to() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("RunActivity:publish") as span:
        try:
            raise TimeoutError("the CRM took too long")
        except TimeoutError:
            record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
        line = json.loads(JsonLines().format(record))
    assert line["trace_id"] == f"{span.get_span_context().trace_id:032x}"
    assert line["exception"].startswith("Traceback") and "TimeoutError: the CRM took too long" in line["exception"]
