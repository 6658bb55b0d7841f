"""The schedules a worker keeps, on the real Temporal dev server (the SDK's time-skipping test server has no
schedules or visibility: its CreateSchedule and ListWorkflowExecutions answer "unimplemented")."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from temporalio import workflow
from temporalio.client import Client, ScheduleCalendarSpec, ScheduleIntervalSpec, ScheduleRange
from temporalio.worker import Worker

from activities.watchdog import TRANSFER_WORKFLOW
from config import Settings
from domain.requests import TransferRequest
from workers.schedules import digest_id, keep_schedules, watchdog_id
from workers.services import build_services
from workers.worker import run_worker
from workflows.digest import DigestWorkflow
from workflows.models import TransferInput, WatchdogResult
from workflows.transfer import TransferWorkflow
from workflows.watchdog import WatchdogWorkflow

WAIT = 60  # seconds to wait for the server to show something: a bound on a wait, not a measure


def settings_for(tmp_path, **changes) -> Settings:
    fields = {"database_url": f"sqlite:///{tmp_path}/app.db", "task_queue": f"sched-{uuid.uuid4().hex[:8]}",
              "smtp_host": "127.0.0.1", "digest_to": ["lee@example.com"], **changes}
    return Settings(**fields)


async def eventually(check: Callable[[], Awaitable[object]], what: str) -> object:
    for _ in range(WAIT * 4):
        if found := await check():
            return found
        await asyncio.sleep(0.25)
    raise AssertionError(f"{what}: not seen within {WAIT} s")


async def test_schedules_are_created_once_then_left_alone_or_brought_in_line(local_env, tmp_path):
    client: Client = local_env.client
    settings = settings_for(tmp_path, digest_at="07:30", digest_timezone="Europe/Paris")
    assert await keep_schedules(client, settings) == {watchdog_id(settings): "created",
                                                      digest_id(settings): "created"}
    assert await keep_schedules(client, settings) == {watchdog_id(settings): "unchanged",
                                                      digest_id(settings): "unchanged"}
    watchdog = await client.get_schedule_handle(watchdog_id(settings)).describe()
    assert watchdog.schedule.spec.intervals == [ScheduleIntervalSpec(every=timedelta(minutes=5))]
    assert (watchdog.schedule.action.workflow, watchdog.schedule.action.task_queue) == (
        "WatchdogWorkflow", settings.task_queue)
    digest = await client.get_schedule_handle(digest_id(settings)).describe()
    [daily] = digest.schedule.spec.calendars
    assert daily == ScheduleCalendarSpec(hour=(ScheduleRange(7),), minute=(ScheduleRange(30),))
    assert digest.schedule.spec.time_zone_name == "Europe/Paris"

    # Ops paused the watchdog in the UI; then its interval and the digest's time change.
    await client.get_schedule_handle(watchdog_id(settings)).pause(note="paused by ops")
    changed = settings.model_copy(update={"watchdog_every": 10, "digest_at": "09:00"})
    assert await keep_schedules(client, changed) == {watchdog_id(settings): "updated",
                                                     digest_id(settings): "updated"}
    watchdog = await client.get_schedule_handle(watchdog_id(settings)).describe()
    assert watchdog.schedule.spec.intervals == [ScheduleIntervalSpec(every=timedelta(minutes=10))]
    assert watchdog.schedule.state.paused and watchdog.schedule.state.note == "paused by ops"
    [daily] = (await client.get_schedule_handle(digest_id(settings)).describe()).schedule.spec.calendars
    assert daily.hour == (ScheduleRange(9),)

    off = changed.model_copy(update={"watchdog": False, "digest_to": []})
    assert await keep_schedules(client, off) == {watchdog_id(settings): "removed", digest_id(settings): "removed"}
    assert await keep_schedules(client, off) == {watchdog_id(settings): "absent", digest_id(settings): "absent"}


async def test_workers_starting_together_make_one_schedule_each(local_env, tmp_path):
    client: Client = local_env.client
    settings = settings_for(tmp_path)
    together = await asyncio.gather(*(keep_schedules(client, settings) for _ in range(3)))
    for schedule_id in (watchdog_id(settings), digest_id(settings)):
        assert sorted(outcomes[schedule_id] for outcomes in together) == ["created", "unchanged", "unchanged"]

    async def listed() -> list[str]:
        ids = [s.id async for s in await client.list_schedules(f"ScheduleId STARTS_WITH '{settings.task_queue}'")]
        return sorted(ids) if len(ids) >= 2 else []

    assert await eventually(listed, "both schedules listed") == sorted([digest_id(settings), watchdog_id(settings)])
    await keep_schedules(client, settings.model_copy(update={"watchdog": False, "digest_to": []}))


@workflow.defn(name=TRANSFER_WORKFLOW, sandboxed=False)
class TransferThatCannotMove:
    """Stands in for a transfer whose code fails every workflow task (a bug, a non-deterministic change)."""

    @workflow.run
    async def run(self, inp: TransferInput) -> None:
        raise RuntimeError("a bug in the transfer's code")  # not a Temporal failure: the workflow task fails


@pytest.mark.e2e
async def test_the_watchdog_schedule_finds_a_transfer_whose_workflow_task_keeps_failing(local_env, tmp_path,
                                                                                        smtp_server):
    inbox, port = smtp_server
    client: Client = local_env.client
    settings = settings_for(tmp_path, smtp_port=port, ops_email=["ops@example.com"], digest_to=[])
    services = build_services(settings)
    # Started as the API starts a transfer, so the stand-in answers to the transfer's own workflow type.
    broken = await client.start_workflow(TransferWorkflow.run, TransferInput(request=TransferRequest(context={})),
                                         id=f"xfer_{uuid.uuid4().hex[:8]}", task_queue=settings.task_queue)
    activities = services.activities(settings)
    with ThreadPoolExecutor(4) as executor:
        async with Worker(client, task_queue=settings.task_queue, activity_executor=executor, activities=activities,
                          workflows=[TransferThatCannotMove, WatchdogWorkflow, DigestWorkflow]):
            flagged = (f"WorkflowId = '{broken.id}' AND TemporalReportedProblems IS NOT NULL")
            await eventually(lambda: _count(client, flagged), "the transfer flagged by Temporal")

            assert (await keep_schedules(client, settings))[watchdog_id(settings)] == "created"
            await client.get_schedule_handle(watchdog_id(settings)).trigger()
            started = f"TemporalScheduledById = '{watchdog_id(settings)}'"
            [run_id] = await eventually(lambda: _ids(client, started), "the watchdog's run")
            result: WatchdogResult = await client.get_workflow_handle(run_id, result_type=WatchdogResult).result()

            [stuck] = result.stuck
            assert (stuck.transfer_id, stuck.problem) == (broken.id, "task_failing")
            assert "WorkflowWorkerUnhandledFailure" in stuck.detail and result.unchecked == []
            assert result.alerted == [broken.id]
            assert services.integrations.email.run_once() == 1
            [message] = inbox.messages
            text = message.get_body(preferencelist=("plain",)).get_content()
            assert broken.id in text and "workflow task failing" in text
    await broken.terminate()
    await keep_schedules(client, settings.model_copy(update={"watchdog": False}))
    services.db.dispose()


async def _count(client: Client, query: str) -> int:
    return (await client.count_workflows(query)).count


async def _ids(client: Client, query: str) -> list[str]:
    return [execution.id async for execution in client.list_workflows(query)]


async def test_settings_that_reach_nobody_are_warned_of(local_env, tmp_path, caplog):
    settings = settings_for(tmp_path, smtp_host=None, ops_email=["ops@example.com"], ops_slack_channel="C0OPS")
    with caplog.at_level(logging.WARNING, logger="workers.schedules"):
        outcomes = await keep_schedules(local_env.client, settings)
    assert outcomes[digest_id(settings)] == "absent"  # managers listed, but no SMTP server to send through
    assert [record.getMessage().split(":")[0] for record in caplog.records] == [
        "WT_DIGEST_TO is set but WT_SMTP_HOST is not", "WT_OPS_EMAIL is set but WT_SMTP_HOST is not",
        "WT_OPS_SLACK_CHANNEL is set but WT_SLACK_BOT_TOKEN is not"]
    await keep_schedules(local_env.client, settings.model_copy(update={"watchdog": False}))


async def test_a_starting_worker_keeps_the_schedules(local_env, tmp_path):
    settings = settings_for(tmp_path, deliver_outbox=False)
    services = build_services(settings)
    stopped = asyncio.Event()
    stopped.set()  # the worker starts, then stops at once
    await run_worker(local_env.client, settings, services, stopped)
    for schedule_id in (watchdog_id(settings), digest_id(settings)):
        assert (await local_env.client.get_schedule_handle(schedule_id).describe()).id == schedule_id
    await keep_schedules(local_env.client, settings.model_copy(update={"watchdog": False, "digest_to": []}))
    services.db.dispose()
