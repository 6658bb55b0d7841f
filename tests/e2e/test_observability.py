"""What ops see of a running stack: one trace from the bot's request to the rep's alert, the Temporal SDK's metrics on
`/metrics`, and the probes `/healthz` and `/readyz`. On the real dev server, the API and a worker in this process,
their Temporal client made as `api` makes it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from temporalio.client import Client

from api.app import create_app
from store.db import Database
from tests.conftest import CONVERTER, free_port
from tests.e2e.conftest import ADMIN_KEY, METRICS_TOKEN, Stack, serving, stack_on
from workers.telemetry import Telemetry
from workers.temporal import TemporalConnection

PROSPECT_NOTE = "Needs SOC 2 before the pilot"  # what the prospect adds: personal data, never in a span


@pytest.fixture
async def observed(local_env, tmp_path) -> AsyncIterator[tuple[Stack, Telemetry, InMemorySpanExporter]]:
    spans = InMemorySpanExporter()
    telemetry = Telemetry.of("api", span_exporters=[spans], sdk_metrics=True)
    address = local_env.client.service_client.config.target_host
    client = await TemporalConnection(address, "default", CONVERTER, interceptors=telemetry.interceptors,
                                      runtime=telemetry.runtime).connect()
    async with stack_on(client, tmp_path, telemetry=telemetry) as stack:
        yield stack, telemetry, spans


async def _offered(stack: Stack, context: dict) -> str:
    """A transfer started by the bot and offered to Sarah (the rep's alert published); its id."""
    transfer_id = f"xfer_obs_{uuid.uuid4().hex[:8]}"
    sarah = stack.rep("sarah", name="Sarah Chen")
    body = {"transfer_id": transfer_id, "context": {**context, "transfer_id": transfer_id},
            "routing": {"team": "enterprise"}, "bot": {"name": "Ava"}}
    async with stack.http(stack.bot_key) as bot, stack.http(sarah) as rep:
        assert (await bot.post("/v1/transfers", json=body)).status_code == 201
        step = await bot.post(f"/v1/transfers/{transfer_id}/prospect", json={"action": "note", "note": PROSPECT_NOTE})
        assert step.json()["status"] == "offered"
        assert (await rep.get(f"/v1/transfers/{transfer_id}")).status_code == 200
    return transfer_id


def _ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    chain = [span]
    while chain[-1].parent is not None and chain[-1].parent.span_id in by_id:
        chain.append(by_id[chain[-1].parent.span_id])
    return chain


async def test_one_trace_runs_from_the_bots_request_through_the_workflow_to_the_reps_alert(observed, acme_context):
    stack, telemetry, spans = observed
    transfer_id = await _offered(stack, acme_context)
    telemetry.tracing.provider.force_flush()
    finished = spans.get_finished_spans()

    [request] = [s for s in finished if s.kind == SpanKind.SERVER and s.attributes.get("http.route") == "/v1/transfers"]
    trace = [s for s in finished if s.context.trace_id == request.context.trace_id]
    names = {s.name for s in trace}
    assert {"StartUpdateWithStartWorkflow:TransferWorkflow", "RunWorkflow:TransferWorkflow",
            "StartActivity:publish", "RunActivity:publish"} <= names
    alerts = [s for s in trace if s.name == "RunActivity:publish"
              and "rep:offer" in s.attributes.get("warm_transfer.notices", ())]
    assert alerts, "no publish of the rep's offer in the bot's request's trace"
    by_id = {s.context.span_id: s for s in finished}
    assert _ancestors(alerts[0], by_id)[-1] is request  # the alert's publish descends from the bot's request
    assert all(s.attributes.get("temporalWorkflowID") in (None, transfer_id) for s in trace)

    # The prospect's note came in a request of its own: the workflow's handling of it links that request's trace.
    [note] = [s for s in finished if s.kind == SpanKind.SERVER
              and s.attributes.get("http.route") == "/v1/transfers/{transfer_id}/prospect"]
    [handled] = [s for s in trace if s.name == "HandleUpdate:prospect"]
    assert [link.context.trace_id for link in handled.links] == [note.context.trace_id]


async def test_spans_carry_ids_never_personal_data_nor_a_calendar_token(observed, acme_context):
    stack, telemetry, spans = observed
    await _offered(stack, acme_context)
    async with stack.http(ADMIN_KEY) as admin:
        feed = (await admin.post("/v1/reps/sarah/calendar-token")).json()["url"]
    token = httpx.URL(feed).params["token"]
    async with httpx.AsyncClient() as anyone:
        assert (await anyone.get(feed)).status_code == 200
    telemetry.tracing.provider.force_flush()

    recorded = json.dumps([{"name": s.name, "attributes": dict(s.attributes), "status": s.status.description,
                            "events": [dict(e.attributes) for e in s.events]} for s in spans.get_finished_spans()])
    prospect = acme_context["prospect"]
    for personal in (prospect["name"], prospect["email"], prospect["phone"], PROSPECT_NOTE, token):
        assert personal not in recorded
    assert "token=[redacted]" in recorded  # the feed's request is traced, its token not


async def test_the_sdks_metrics_are_on_the_apis_metrics_endpoint_beside_ours(observed, acme_context):
    stack, _, _ = observed
    await _offered(stack, acme_context)
    async with stack.http(METRICS_TOKEN) as scraper:
        exposed = (await scraper.get("/metrics")).text
    for series in ("temporal_workflow_task_schedule_to_start_latency_bucket",
                   "temporal_workflow_task_execution_latency_count",
                   "temporal_activity_execution_latency_count",
                   "temporal_request{", "warm_transfer_http_request_duration_seconds_bucket"):
        assert series in exposed, series
    assert "# TYPE temporal_activity_schedule_to_start_latency histogram" in exposed
    assert 'activity_type="publish"' in exposed and 'task_queue="' + stack.settings.task_queue + '"' in exposed


async def test_readyz_is_200_while_temporal_and_the_database_answer_and_healthz_is_the_process(stack):
    async with httpx.AsyncClient(base_url=stack.url) as probe:
        ready = await probe.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"ready": True, "checks": {"temporal": "ok", "database": "ok"}}
        assert (await probe.get("/healthz")).json() == {"ok": True}


async def test_readyz_is_503_naming_the_database_when_it_does_not_answer(stack):
    stack.app.state.database_check.db = Database(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/gone")
    async with httpx.AsyncClient(base_url=stack.url) as probe:
        answer = await probe.get("/readyz")
        assert answer.status_code == 503
        assert answer.json()["error"] == {"code": "unavailable", "message": "Not ready: database does not answer.",
                                          "details": {"temporal": "ok", "database": "down"}}
        assert (await probe.get("/healthz")).status_code == 200  # the process itself is fine


async def test_readyz_is_503_naming_temporal_when_it_does_not_answer(tmp_path):
    """An API whose Temporal is gone: nothing listens at its address any more."""
    gone = await Client.connect(f"127.0.0.1:{free_port()}", data_converter=CONVERTER, lazy=True)
    stack = Stack(gone, tmp_path)
    app = create_app(stack.settings, stack.services, gone)
    async with serving(app, stack.sock), httpx.AsyncClient(base_url=stack.url) as probe:
        for _ in range(100):  # until the API's first health check of Temporal has failed (half a second)
            if (answer := await probe.get("/readyz")).status_code != 200:
                break
            await asyncio.sleep(0.05)
        assert answer.status_code == 503
        assert answer.json()["error"]["details"] == {"temporal": "down", "database": "ok"}
        assert answer.json()["error"]["message"] == "Not ready: temporal does not answer."
        assert (await probe.get("/healthz")).status_code == 200
    stack.services.db.dispose()
