"""Follow-ups on the real dev server, in real time: a callback comes due while its owner is busy, waits in
the queue, and gets her seat the moment she records her outcome."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.e2e.conftest import ADMIN_KEY
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


async def _offered(stack, acme_context: dict, transfer_id: str, rep_id: str, prospect: dict) -> None:
    """A transfer started by the stack's bot and offered to `rep_id`."""
    context = {**acme_context, "transfer_id": transfer_id, "prospect": {**acme_context["prospect"], **prospect}}
    body = {"transfer_id": transfer_id, "context": context,
            "routing": {"team": "enterprise", "preferred_rep_id": rep_id}, "bot": {"name": "Ava"}}
    async with stack.http(stack.bot_key) as bot:
        assert (await bot.post("/v1/transfers", json=body)).status_code < 300
        assert (await bot.post(f"/v1/transfers/{transfer_id}/prospect", json={"action": "proceed"})).status_code < 300

        async def offered() -> bool:
            return (await bot.get(f"/v1/transfers/{transfer_id}")).json()["status"] == "offered"

        await _until(offered, 15)


async def test_a_rep_lists_her_open_follow_ups_soonest_first(stack, acme_context):
    """What the rep's calendar feed lists, as JSON: open follow-ups only (one done leaves), soonest first, her own."""
    sarah_key, alex_key = stack.rep("sarah", name="Sarah Chen"), stack.rep("alex", name="Alex Kim")
    later = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    sooner = (datetime.now(UTC) + timedelta(seconds=5)).replace(microsecond=0)
    async with stack.http(sarah_key) as sarah:
        for transfer_id, due, prospect in (("xfer_later", later, {"name": "John Smith", "company": "Acme Corp"}),
                                           ("xfer_sooner", sooner, {"name": "Li Wei", "company": "Globex"})):
            await _offered(stack, acme_context, transfer_id, "sarah", prospect)
            booked = await sarah.post(f"/v1/transfers/{transfer_id}/rep",
                                      json={"action": "schedule_callback", "callback_at": due.isoformat()})
            assert booked.status_code == 200, booked.text

        async def both_listed() -> bool:
            return len((await sarah.get("/v1/reps/me/follow-ups")).json()) == 2

        await _until(both_listed)
        listed = (await sarah.get("/v1/reps/me/follow-ups")).json()
        assert [(f["transfer_id"], f["kind"], f["prospect"]) for f in listed] == [
            ("xfer_sooner", "callback", "Li Wei @ Globex"), ("xfer_later", "callback", "John Smith @ Acme Corp")]
        assert [datetime.fromisoformat(f["due_at"]) for f in listed] == [sooner, later]
        assert all(f["due_at"].endswith(("Z", "+00:00")) for f in listed)  # UTC
        assert (await sarah.get("/v1/reps/sarah/follow-ups")).json() == listed
        assert (await sarah.get("/v1/reps/alex/follow-ups")).status_code == 403

        async def due_and_offered() -> bool:
            return (await sarah.get("/v1/transfers/xfer_sooner")).json()["status"] == "offered"

        await _until(due_and_offered)  # the sooner callback came due: Sarah calls, and it is done
        for action in ("accept", "ack"):
            assert (await sarah.post("/v1/transfers/xfer_sooner/rep", json={"action": action})).status_code == 200

        async def one_left() -> bool:
            return [f["transfer_id"] for f in (await sarah.get("/v1/reps/me/follow-ups")).json()] == ["xfer_later"]

        await _until(one_left)
    async with stack.http(alex_key) as alex:
        assert (await alex.get("/v1/reps/me/follow-ups")).json() == []
    async with stack.http(ADMIN_KEY) as admin:
        assert [f["transfer_id"] for f in (await admin.get("/v1/reps/sarah/follow-ups")).json()] == ["xfer_later"]
        assert (await admin.get("/v1/reps/ghost/follow-ups")).status_code == 404
        assert (await admin.get("/v1/reps/me/follow-ups")).status_code == 403
