"""The README's example of the bots' client runs as shown against the real API, a rep taking the transfer meanwhile:
it evaluates, starts with the evaluation, passes on a note and follows the events to the end."""

from __future__ import annotations

import asyncio
import re

from tests.conftest import REPO
from tests.e2e.conftest import ADMIN_KEY

SECTION = "### For bots: the Python client"


def readme_example() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return re.search(r"```python\n(.*?)```", text[text.index(SECTION):], re.S).group(1)


async def first_offer(stack, rep_id: str) -> str:
    """The transfer id of the first offer to the rep, from the outbox their console reads."""
    while not (offers := [row for row in stack.services.outbox.for_rep(rep_id) if row.kind == "offer"]):
        await asyncio.sleep(0.1)
    return offers[0].transfer_id


async def test_the_readme_example_runs_as_shown(stack) -> None:
    sarah = stack.rep("sarah", name="Sarah Chen")
    code = readme_example().replace("wt_bot_demo", stack.bot_key).replace("http://127.0.0.1:8000", stack.url)
    said: list[str] = []
    running = asyncio.create_task(asyncio.to_thread(exec, code, {"print": said.append}))

    transfer_id = await asyncio.wait_for(first_offer(stack, "sarah"), 60)
    async with stack.http(sarah) as rep:
        brief = (await rep.get(f"/v1/transfers/{transfer_id}/brief")).json()
        # What the prospect told the bot reaches the rep, and the opener does not ask them to start over.
        assert "500 users" in brief["summary"]
        assert "demo with someone this week" in brief["context"]["conversation_transcript"]
        assert "help you today" not in brief["opener"]
        for body in ({"action": "accept"}, {"action": "ack"}, {"action": "outcome", "outcome": "demo_booked"}):
            assert (await rep.post(f"/v1/transfers/{transfer_id}/rep", json=body)).status_code == 200
    await asyncio.wait_for(running, 60)  # the example's loop ends at the final status

    assert said[0].startswith("Based on what you're looking for, I think Sarah Chen") and len(said) >= 3
    assert len(set(said)) == len(said)  # no line said twice
    async with stack.http(ADMIN_KEY) as admin:
        view = (await admin.get(f"/v1/transfers/{transfer_id}")).json()
    assert view["status"] == "completed" and view["timeline"][0]["detail"].startswith("Ava asked for a rep")
