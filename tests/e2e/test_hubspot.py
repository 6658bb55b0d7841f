"""HubSpot as the CRM, through the whole product: `WT_CRM=hubspot` on the real stack (the API, a worker and the
outbox's delivery on the local Temporal dev server), HubSpot faked at its HTTP boundary in its real shapes.

Up, HubSpot's history reaches the rep's brief, the contact's owner gets the offer, and the outcome is a note on
the contact. Down, the transfer goes on and says "CRM unavailable"; its outcome note is written once HubSpot is
back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from tests.e2e.conftest import ADMIN_KEY, Stack, stack_on
from tests.integrations.hubspot_fake import TOKEN, FakeHubSpot, error, hubspot_on_respx
from workers.services import build_services
from workers.worker import deliver_outbox

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]
PROSPECT = {"name": "Ola Nordmann", "email": "ola@fjord.example"}


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    fake = FakeHubSpot()
    with hubspot_on_respx(fake):
        yield fake


def with_hubspot(stack: Stack) -> None:
    stack.services.db.dispose()
    stack.settings = stack.settings.model_copy(update={"crm": "hubspot", "hubspot_token": SecretStr(TOKEN)})
    stack.services = build_services(stack.settings)


def ola_in(hubspot: FakeHubSpot, owner_email: str) -> str:
    contact = hubspot.add("contacts", email="ola@fjord.example", firstname="Ola", lastname="Nordmann",
                          hubspot_owner_id=hubspot.owner(owner_email))
    hubspot.engagement("calls", ("contacts", contact), hs_timestamp="2026-02-01T15:00:00Z",
                       hs_call_title="Discovery call", hs_call_body="<p>Wants SSO for 500 seats</p>")
    return contact


async def test_with_hubspot_up_the_rep_sees_its_history_and_the_outcome_is_noted(local_env, tmp_path, hubspot):
    contact = ola_in(hubspot, "sarah@ourteam.example")
    async with stack_on(local_env.client, tmp_path, with_hubspot) as stack:
        stack.rep("alex", email="alex@ourteam.example")  # first by every other rule
        sarah = stack.rep("sarah", email="Sarah@OurTeam.example")
        async with stack.http(ADMIN_KEY) as bot, stack.http(sarah) as rep:
            started = (await bot.post("/v1/transfers", json={"routing": {"team": "enterprise"},
                                                             "context": {"prospect": PROSPECT}})).json()
            path = f"/v1/transfers/{started['transfer_id']}"
            offered = (await bot.post(f"{path}/prospect", json={"action": "proceed"})).json()
            assert offered["status"] == "offered" and offered["rep"]["id"] == "sarah"  # she owns Ola in HubSpot
            details = [entry["detail"] for entry in offered["timeline"]]
            assert f"CRM account {contact} found by email" in details
            assert "Sarah owns the account in the CRM: preferred" in details

            brief = (await rep.get(f"{path}/brief")).json()
            assert brief["crm_unavailable"] is None and brief["account"]["account_id"] == contact
            assert [(a["kind"], a["text"]) for a in brief["account"]["history"]] == [
                ("call", "Discovery call: Wants SSO for 500 seats")]
            for action, status in (("accept", "connecting"), ("ack", "connected")):
                assert (await rep.post(f"{path}/rep", json={"action": action})).json()["status"] == status
            done = await rep.post(f"{path}/rep", json={"action": "outcome", "outcome": "converted"})
            assert done.json()["status"] == "completed"

        notes = await _until(lambda: hubspot.notes_on("contacts", contact))
        assert f"[wt:{started['transfer_id']}:outcome]" in notes[0]["properties"]["hs_note_body"]
        assert stack.services.crm_notes.keys() == []


async def test_with_hubspot_down_the_transfer_goes_on_and_its_note_follows_later(local_env, tmp_path, hubspot):
    contact = ola_in(hubspot, "sarah@ourteam.example")
    hubspot.outage = error(503, "SERVICE_UNAVAILABLE", "HubSpot is down for maintenance")
    async with stack_on(local_env.client, tmp_path, with_hubspot) as stack:
        sarah = stack.rep("sarah")
        async with stack.http(ADMIN_KEY) as bot, stack.http(sarah) as rep:
            started = (await bot.post("/v1/transfers", json={"routing": {"team": "enterprise"},
                                                             "context": {"prospect": PROSPECT}})).json()
            tid = started["transfer_id"]
            path = f"/v1/transfers/{tid}"
            assert (await bot.post(f"{path}/prospect", json={"action": "proceed"})).json()["status"] == "offered"
            details = [entry["detail"] for entry in (await bot.get(path)).json()["timeline"]]
            assert ("CRM unavailable (lookup failed: HubSpot answered 503 SERVICE_UNAVAILABLE to searching contacts"
                    in " ".join(details))
            alert = next(row for row in stack.services.outbox.for_rep("sarah") if row.kind == "offer")
            assert alert.payload["account"] is None and "HubSpot answered 503" in alert.payload["crm_unavailable"]
            brief = (await rep.get(f"{path}/brief")).json()
            assert brief["account"] is None and "HubSpot answered 503" in brief["crm_unavailable"]
            for action, status in (("accept", "connecting"), ("ack", "connected")):
                assert (await rep.post(f"{path}/rep", json={"action": action})).json()["status"] == status
            done = await rep.post(f"{path}/rep", json={"action": "outcome", "outcome": "demo_booked"})
            assert done.json()["status"] == "completed"

        await _until(lambda: stack.services.crm_notes.keys() == [f"{tid}:outcome"])
        assert hubspot.notes_on("contacts", contact) == []
        hubspot.outage = None  # HubSpot is back: the worker's retries write the note, once
        stop = asyncio.Event()
        delivering = deliver_outbox(stack.services, stop, stack.client)
        try:
            await _until(lambda: stack.services.crm_notes.keys() == [])
        finally:
            stop.set()
            await asyncio.gather(*delivering)
        [note] = hubspot.notes_on("contacts", contact)
        assert f"[wt:{tid}:outcome]" in note["properties"]["hs_note_body"]


async def _until(check, seconds: float = 30):
    """`check()`'s first truthy answer, asked every 0.1 s."""
    for _ in range(int(seconds * 10)):
        if answer := check():
            return answer
        await asyncio.sleep(0.1)
    pytest.fail("it never happened")
