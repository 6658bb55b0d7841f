"""The Temporal SDK's own metrics, drained from its runtime into Prometheus series: a worker's endpoint
(WT_WORKER_METRICS_ADDRESS) after a workflow ran, one of its activities failing. (The API's `/metrics`:
tests/e2e/test_observability.py.)"""

from __future__ import annotations

import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from tests.conftest import CONVERTER, free_port
from workers.telemetry import Telemetry
from workers.temporal import TemporalConnection


@activity.defn(name="probe_step")
def probe_step(fail: bool) -> str:
    if fail:
        raise RuntimeError("this step fails")
    return "done"


@workflow.defn(name="MetricsProbe")
class MetricsProbe:
    @workflow.run
    async def run(self) -> str:
        with suppress(ActivityError):
            await workflow.execute_activity(probe_step, True, start_to_close_timeout=timedelta(seconds=10),
                                            retry_policy=RetryPolicy(maximum_attempts=1))
        return await workflow.execute_activity(probe_step, False, start_to_close_timeout=timedelta(seconds=10))


def _scrape(url: str) -> dict[str, dict[tuple, float]]:
    """Every sample at `url`, by sample name then labels."""
    with urllib.request.urlopen(url, timeout=10) as answer:
        text = answer.read().decode()
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def _only(samples: dict[tuple, float], **labels: str) -> list[float]:
    return [value for key, value in samples.items() if set(labels.items()) <= set(key)]


async def test_a_workers_endpoint_serves_the_sdks_metrics_after_a_workflow_ran(local_env) -> None:
    telemetry = Telemetry.of("worker", sdk_metrics=True)
    address = local_env.client.service_client.config.target_host
    client = await TemporalConnection(address, "default", CONVERTER, runtime=telemetry.runtime).connect()
    queue = f"metrics-{uuid.uuid4().hex[:8]}"
    server = telemetry.sdk_metrics.serve(f"127.0.0.1:{free_port()}")
    url = f"http://127.0.0.1:{server.server_port}/metrics"
    try:
        with ThreadPoolExecutor(2) as executor:
            async with Worker(client, task_queue=queue, workflows=[MetricsProbe], activities=[probe_step],
                              activity_executor=executor, workflow_runner=UnsandboxedWorkflowRunner()):
                assert await client.execute_workflow(MetricsProbe.run, id=queue, task_queue=queue) == "done"
        scraped = _scrape(url)
        again = _scrape(url)  # nothing ran in between: the same totals, not counted twice
    finally:
        server.shutdown()
        server.server_close()

    ours = {"task_queue": queue}
    assert _only(scraped["temporal_activity_execution_failed"], activity_type="probe_step", **ours) == [1]
    assert _only(scraped["temporal_workflow_completed"], workflow_type="MetricsProbe", **ours) == [1]
    [tasks] = _only(scraped["temporal_workflow_task_schedule_to_start_latency_count"], **ours)
    assert tasks >= 1
    [below_infinity] = _only(scraped["temporal_workflow_task_schedule_to_start_latency_bucket"], le="+Inf", **ours)
    assert below_infinity == tasks
    assert _only(scraped["temporal_activity_schedule_to_start_latency_count"], **ours) == [2]
    assert _only(scraped["temporal_workflow_task_execution_latency_count"], workflow_type="MetricsProbe", **ours)
    assert "temporal_worker_task_slots_available" in scraped  # gauges too
    assert again["temporal_activity_execution_failed"] == scraped["temporal_activity_execution_failed"]
    assert again["temporal_workflow_task_schedule_to_start_latency_count"] == \
        scraped["temporal_workflow_task_schedule_to_start_latency_count"]
