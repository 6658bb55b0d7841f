"""The watchdog on the time-skipping test server, with real transfers stuck by the clock and the real activities on
SQLite; ops hear by e-mail through a real SMTP server on loopback, and on Slack faked in its real API shape.

The test server has no visibility API, so the look for failing workflow tasks is reported unchecked here; it is
tested on the real dev server (tests/workers/test_schedules.py)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
from temporalio.client import WorkflowHandle

from domain.requests import Routing
from integrations.notify.slack import POST_MESSAGE
from tests.workflows.harness import SCHEDULED, Harness
from workflows.models import WatchdogResult
from workflows.watchdog import WatchdogWorkflow

GRACE_MINUTES = 15


@pytest.fixture
async def watched(time_skipping_env, tmp_path, smtp_server):
    inbox, port = smtp_server
    async with Harness(time_skipping_env.client, tmp_path, smtp_host="127.0.0.1", smtp_port=port,
                       ops_email=["ops@example.com"], slack_bot_token="xoxb-test", ops_slack_channel="C0OPS",
                       watchdog_grace=GRACE_MINUTES, watchdog_remind_hours=1) as harness:
        harness.inbox = inbox
        yield harness


async def look(harness: Harness) -> tuple[WorkflowHandle, WatchdogResult]:
    """One run of the watchdog, as its schedule starts it."""
    handle = await harness.client.start_workflow(WatchdogWorkflow.run, id=f"watchdog-{uuid.uuid4().hex[:8]}",
                                                 task_queue=harness.task_queue)
    return handle, await handle.result()


def ops_notices(harness: Harness) -> list:
    return harness.outbox("ops/watchdog")


async def test_a_transfer_queued_past_its_estimate_is_alerted_once_then_reminded(watched, time_skipping_env):
    watched.rep("sarah")
    watched.services.capacity.place("ahead", Routing(team="enterprise"), datetime.now(UTC))  # takes sarah's seat
    handle, _ = await watched.start_ready()
    queued = await watched.prospect(handle, "proceed")
    assert queued.status == "queued"
    await time_skipping_env.sleep(queued.queue.eta_seconds + GRACE_MINUTES * 60 + 60)

    _, first = await look(watched)
    [stuck] = first.stuck
    assert (stuck.transfer_id, stuck.problem) == (handle.id, "queue_overdue")
    assert first.alerted == [handle.id]
    assert first.unchecked and first.unchecked[0].startswith("failing workflow tasks")
    assert watched.services.integrations.email.run_once() == 1
    [message] = watched.inbox.messages
    assert watched.inbox.envelopes[0][1] == ["ops@example.com"]
    assert message["Subject"] == "Warm Transfer: 1 transfer stuck"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert f"- {handle.id}: waiting past its estimate since" in text
    assert "Dana" not in message.as_string()  # the prospect's name stays out of alerts
    with respx.mock:
        slack = respx.post(POST_MESSAGE).mock(return_value=httpx.Response(200, json={"ok": True}))
        assert watched.services.integrations.chat.run_once() == 1
    posted = json.loads(slack.calls.last.request.content)
    assert posted["channel"] == "C0OPS" and handle.id in posted["text"]

    _, again = await look(watched)
    assert [s.transfer_id for s in again.stuck] == [handle.id] and again.alerted == []
    assert len(ops_notices(watched)) == 2  # the e-mail and the post of the first look; nothing new
    assert watched.services.integrations.email.run_once() == 0

    await time_skipping_env.sleep(3600)  # WT_WATCHDOG_REMIND_HOURS=1: still stuck, so ops are reminded
    run, reminded = await look(watched)
    assert reminded.alerted == [handle.id]
    assert watched.services.integrations.email.run_once() == 1
    await watched.keep_history(run, "watchdog", folder=SCHEDULED)


async def test_a_callback_nobody_took_over_is_found_though_the_transfer_moved_on(watched, time_skipping_env):
    watched.rep("sarah")
    handle, _ = await watched.start_ready()
    await watched.prospect(handle, "proceed")
    due = await time_skipping_env.get_current_time() + timedelta(hours=1)
    scheduled = await watched.rep_act(handle, "sarah", "schedule_callback", callback_at=due)
    assert scheduled.status == "callback_scheduled"
    # At the due time sarah is offered the callback and lets it lapse: she is set away, and it waits for a rep.
    await time_skipping_env.sleep(3600 + GRACE_MINUTES * 60 + 120)
    now_status = (await watched.view(handle)).status
    assert now_status not in ("callback_scheduled", "connected")

    _, result = await look(watched)
    [stuck] = result.stuck
    assert (stuck.transfer_id, stuck.problem) == (handle.id, "promise_missed")
    assert stuck.since == due
    assert "callback due" in stuck.detail and "by sarah" in stuck.detail
    assert stuck.detail.endswith(f"the transfer is {now_status}")
    assert result.alerted == [handle.id]


async def test_nothing_stuck_means_no_alert(watched):
    watched.rep("sarah", capacity=2)
    await watched.connected("sarah")  # taken over: fine however long it lasts
    _, result = await look(watched)
    assert result.stuck == [] and result.alerted == []
    assert ops_notices(watched) == []
