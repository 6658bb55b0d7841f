"""Each operation of the bots' client against the real API, with the blocking and the asyncio client alike: a
transfer from the evaluation to both sides' feedback, counted by its trigger category in the metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from warm_transfer_client import ProspectFeedback, RepFeedback, StartTransfer, TransferView

from tests.clients.python.conftest import Connect, Driven
from tests.e2e.conftest import ADMIN_KEY


def start_request(acme_context: dict) -> StartTransfer:
    return StartTransfer(context={**acme_context, "transfer_id": None}, routing={"team": "enterprise"},
                         bot={"name": "Ava", "locale": "en"})


async def test_a_transfer_from_evaluation_to_feedback(connect: Connect, stack, acme_context, conversation) -> None:
    sarah = connect(stack.rep("sarah", name="Sarah Chen"))
    bot, admin = connect(stack.bot_key), connect(ADMIN_KEY)

    evaluation = await bot.evaluate({"messages": conversation["messages"],
                                     "known": {"prospect": conversation["prospect"]}, "locale": "en"})
    assert evaluation.transfer and evaluation.category == "positive"
    assert {"demo_request", "enterprise_inquiry"} <= {hit.name for hit in evaluation.triggers}
    request = start_request(acme_context)
    assert request.transfer_id.startswith("xfer_")  # fixed by the client, so a start sent again is the same one

    started = await bot.start(request, evaluation=evaluation)
    assert isinstance(started, TransferView) and started.transfer_id == request.transfer_id
    assert started.status == "preparing" and started.rep is not None and started.rep.name == "Sarah Chen"
    assert started.bot_lines[-1].kind == "prepare" and started.bot_lines[-1].choices == ["note", "proceed"]
    again = await bot.start(request, evaluation=evaluation)  # a retry after a lost answer: the same transfer
    assert again.transfer_id == started.transfer_id and again.bot_lines == started.bot_lines
    tid = started.transfer_id
    assert (await bot.view(tid)).status == "preparing"

    offered = await bot.prospect(tid, "note", note="Our Salesforce admin will join the call.")
    assert offered.status == "offered" and offered.offer_expires_at is not None
    assert (await sarah.rep(tid, "accept")).status == "connecting"
    assert (await sarah.rep(tid, "ack")).status == "connected"
    assert (await bot.prospect(tid, "replied")).status == "connected"
    done = await sarah.rep(tid, "outcome", outcome="demo_booked")
    assert (done.status, done.outcome) == ("completed", "demo_booked")
    await sarah.feedback(tid, RepFeedback(context_helpful=True, missing=["budget owner"], prospect_repeated=False))
    rated = await bot.feedback(tid, ProspectFeedback(csat=5, comment="Sarah knew everything already"))
    assert rated.transfer_id == tid and rated.timeline[-1].at >= started.timeline[0].at

    # The evaluation rode along: the transfer counts under its category, not "unknown".
    metrics = await recorded(admin, lambda figures: figures["satisfaction"]["count"] == 1)
    assert metrics["by_category"] == {"positive": 1}
    assert metrics["satisfaction"] == {"count": 1, "mean_csat": 5}


async def test_a_start_without_an_evaluation_counts_as_unknown_and_a_given_trigger_as_given(
        connect: Connect, stack, acme_context) -> None:
    stack.rep("sarah")  # the team the transfers ask for
    bot, admin = connect(stack.bot_key), connect(ADMIN_KEY)
    await bot.start(start_request(acme_context))
    await bot.start({**start_request(acme_context).model_dump(exclude={"transfer_id"}),
                     "trigger": {"category": "rescue", "triggers": ["complaint"]}})
    metrics = await recorded(admin, lambda figures: figures["transfers"] == 2)
    assert metrics["by_category"] == {"unknown": 1, "rescue": 1}


async def recorded(admin: Driven, ready: Callable[[dict], bool]) -> dict:
    """`GET /v1/metrics` once `ready`: a transfer's facts are recorded by its workflow, just after its answers."""
    for _ in range(100):
        metrics = (await admin.request("GET", "/v1/metrics"))["metrics"]
        if ready(metrics):
            return metrics
        await asyncio.sleep(0.1)
    raise AssertionError(f"the metrics never got there: {metrics}")
