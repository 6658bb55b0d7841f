"""A worker process killed in the middle of a transfer: a new worker picks it up, nothing is lost or sent twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from config import Settings
from domain.reps import RepProfile
from domain.requests import ProspectAction, RepAction, TransferRequest
from tests.workflows.harness import ALL_WEEK
from workers.services import build_services
from workflows.models import TransferInput
from workflows.transfer import TransferWorkflow

CLI = Path(sys.executable).parent / "warm-transfer"


def _start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [str(CLI), "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


async def test_worker_killed_mid_transfer_completes_without_duplicates(local_env, tmp_path, acme_context):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/app.db", task_queue=f"crash-{uuid.uuid4().hex[:8]}")
    services = build_services(settings)
    services.reps.upsert(
        RepProfile(id="sarah", name="Sarah Chen", team="enterprise", working_hours=ALL_WEEK), "available"
    )
    env = {
        **os.environ,
        "WT_DATABASE_URL": settings.database_url,
        "WT_TASK_QUEUE": settings.task_queue,
        "WT_TEMPORAL_ADDRESS": local_env.client.service_client.config.target_host,
    }
    client = local_env.client
    first = _start_worker(env)
    try:
        request = TransferRequest.model_validate(
            {"context": {**acme_context, "transfer_id": "xfer_crash"}, "routing": {"team": "enterprise"}}
        )
        handle = await client.start_workflow(
            TransferWorkflow.run, TransferInput(request=request), id="xfer_crash", task_queue=settings.task_queue
        )
        await asyncio.wait_for(handle.execute_update(TransferWorkflow.ready), 60)
        offered = await handle.execute_update(TransferWorkflow.prospect, ProspectAction(action="proceed"))
        assert offered.status == "offered"
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # no goodbye: the process and its threads vanish
        first.wait()

    pending = asyncio.create_task(
        handle.execute_update(TransferWorkflow.rep_action, RepAction(action="accept", rep_id="sarah"))
    )
    await asyncio.sleep(1)
    assert not pending.done()  # nobody is polling: the update waits durably, nothing is lost
    second = _start_worker(env)
    try:
        assert (await asyncio.wait_for(pending, 60)).status == "connecting"
        await handle.execute_update(TransferWorkflow.rep_action, RepAction(action="ack", rep_id="sarah"))
        done = await handle.execute_update(
            TransferWorkflow.rep_action, RepAction(action="outcome", outcome="converted", rep_id="sarah")
        )
        assert done.status == "completed"
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)

    offers = [row for row in services.outbox.for_rep("sarah") if row.kind == "offer"]
    assert len(offers) == 1  # one alert, though the worker that sent it died
    kinds = [e.kind for e in services.transfers.events("xfer_crash")]
    assert kinds.count("offered") == 1 and kinds.count("outcome") == 1
    assert services.reps.get("sarah").active == 0
    services.db.dispose()
