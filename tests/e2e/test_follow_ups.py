"""Follow-ups on the real dev server, in real time: a callback comes due while its owner is busy, waits in
the queue, and gets her seat the moment she records her outcome."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.workflows.harness import Harness
from workflows.models import Timings


async def _until(condition, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.1)):
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def test_a_due_callback_waits_for_its_busy_owner_then_gets_her_seat(local_env, tmp_path):
    async with Harness(local_env.client, tmp_path) as harness:
        harness.rep("priya", team="smb")
        smb = {"team": "smb"}
        quick = Timings(queue_recheck=5, recovery_minutes=1)
        busy = await harness.connected("priya", routing=smb)

        caller = await harness.start(routing=smb, timings=quick, context={"prospect": {"name": "Sam"}})
        await harness.ready(caller)
        assert (await harness.prospect(caller, "proceed")).status == "queued"
        due = datetime.now(UTC) + timedelta(seconds=3)
        scheduled = await harness.prospect(caller, "callback", callback_at=due.isoformat(), phone="+1 555 0199")
        assert scheduled.status == "callback_scheduled"
        mailer = await harness.start(routing=smb, timings=quick, context={"prospect": {"email": "kim@example.com"}})
        await harness.ready(mailer)
        await harness.prospect(mailer, "proceed")
        assert (await harness.prospect(mailer, "email")).status == "email_follow_up"  # due in a minute

        async def callback_queued() -> bool:
            return (await harness.view(caller)).status == "queued"

        await _until(callback_queued)  # due, but Priya is still busy

        done = await harness.rep_act(busy, "priya", "outcome", outcome="lost")
        assert done.status == "completed"

        async def callback_offered() -> bool:
            return (await harness.view(caller)).status == "offered"

        await _until(callback_offered)
        assert (await harness.view(caller)).rep.id == "priya"
        assert (await harness.view(mailer)).status == "email_follow_up"  # not due yet: it keeps its timer
        alerts = [r for r in harness.services.outbox.for_rep("priya") if r.kind == "follow_up_due"]
        assert [r.transfer_id for r in alerts] == [caller.id]
        assert alerts[0].payload["follow_up"]["phone"] == "+1 555 0199"
