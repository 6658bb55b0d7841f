"""A bot and reps drive transfers over HTTP against the real Temporal dev server, a worker and the API."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from temporalio.client import Client

from api.app import create_app
from config import Settings
from domain.triggers import PolicyError
from tests.e2e.conftest import ADMIN_KEY
from tests.fixtures import CONVERSATIONS
from workers.services import build_services


async def _bot_key(stack) -> str:
    async with stack.http(ADMIN_KEY) as admin:
        response = await admin.post("/v1/api-keys", json={"role": "bot"})
        assert response.status_code == 201
        return response.json()["key"]


async def test_seed_scenario_over_http(stack, acme_context):
    sarah_key = stack.rep("sarah", name="Sarah Chen", title="Enterprise AE", capacity=2)
    bot_key = await _bot_key(stack)
    body = {"context": acme_context, "routing": {"team": "enterprise"}, "bot": {"name": "Ava"}}
    async with stack.http(bot_key) as bot, stack.http(sarah_key) as sarah:
        created = await bot.post("/v1/transfers", json=body)
        assert created.status_code == 201, created.text
        view = created.json()
        assert view["transfer_id"] == "xfer_12345" and view["status"] == "preparing"
        assert view["rep"]["name"] == "Sarah Chen" and view["bot_lines"][0]["kind"] == "prepare"

        again = await bot.post("/v1/transfers", json=body)  # idempotent on transfer_id
        assert again.status_code == 200 and again.json()["bot_lines"] == view["bot_lines"]
        other = {**body, "bot": {"name": "Max"}}
        conflict = await bot.post("/v1/transfers", json=other)
        assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "conflict"

        step = await bot.post("/v1/transfers/xfer_12345/prospect", json={"action": "note", "note": "Need SOC 2"})
        assert step.json()["status"] == "offered"
        assert (await bot.post("/v1/transfers/xfer_12345/prospect", json={"action": "wait"})).status_code == 409

        accepted = await sarah.post("/v1/transfers/xfer_12345/rep", json={"action": "accept"})
        assert accepted.json()["status"] == "connecting"
        # Her accept repeated (its answer lost in an outage, or a second tab) answers as the first did, done once.
        repeated = await sarah.post("/v1/transfers/xfer_12345/rep", json={"action": "accept"})
        assert repeated.status_code == 200 and repeated.json()["timeline"] == accepted.json()["timeline"]
        assert (await sarah.post("/v1/transfers/xfer_12345/rep", json={"action": "decline"})).status_code == 409
        for _ in range(2):
            assert (await sarah.post("/v1/transfers/xfer_12345/rep", json={"action": "ack"})).json()[
                "status"
            ] == "connected"
        assert (await sarah.post("/v1/transfers/xfer_12345/rep", json={"action": "accept"})).status_code == 200
        await bot.post("/v1/transfers/xfer_12345/prospect", json={"action": "replied"})
        done = await sarah.post("/v1/transfers/xfer_12345/rep", json={"action": "outcome", "outcome": "demo_booked"})
        assert done.json()["status"] == "completed"
        again = await sarah.post("/v1/transfers/xfer_12345/rep", json={"action": "outcome", "outcome": "demo_booked"})
        assert again.status_code == 200 and again.json()["outcome"] == "demo_booked"
        other_outcome = await sarah.post("/v1/transfers/xfer_12345/rep", json={"action": "outcome", "outcome": "lost"})
        assert other_outcome.status_code == 409 and other_outcome.json()["error"]["code"] == "rejected"
        fb = await sarah.post(
            "/v1/transfers/xfer_12345/feedback",
            json={"from": "rep", "context_helpful": True, "prospect_repeated": False},
        )
        assert fb.status_code == 200, fb.text
        csat = await bot.post("/v1/transfers/xfer_12345/feedback", json={"from": "prospect", "csat": 5})
        assert csat.status_code == 200

        handle = stack.client.get_workflow_handle("xfer_12345")
        await asyncio.wait_for(handle.result(), 30)
        closed = await bot.get("/v1/transfers/xfer_12345")
        assert closed.json()["status"] == "completed"
        late = await sarah.post("/v1/transfers/xfer_12345/rep", json={"action": "ack"})
        assert late.status_code == 409

        lines = []
        async with bot.stream("GET", "/v1/transfers/xfer_12345/events") as stream:
            async for raw in stream.aiter_lines():
                if raw.startswith("data:"):
                    lines.append(json.loads(raw[5:]))
                if any(item.get("status") == "completed" for item in lines):
                    break
        assert [item["kind"] for item in lines if "kind" in item] == ["prepare", "available", "connecting"]
    await _search_attributes_are_set(stack.client)


async def test_a_queued_transfer_is_offered_at_once_to_a_rep_who_makes_themselves_available(stack, acme_context):
    """A transfer passes over the reps who declined or let its offer lapse until it next looks again by itself
    (120 s here); a rep who then says they are available is offered it at once."""
    sarah_key = stack.rep("sarah", name="Sarah Chen")
    body = {"context": {**acme_context, "transfer_id": "xfer_returning_rep"}, "routing": {"team": "enterprise"},
            "bot": {"name": "Ava"}}
    async with stack.http(stack.bot_key) as bot, stack.http(sarah_key) as sarah:
        tid = (await bot.post("/v1/transfers", json=body)).json()["transfer_id"]
        await bot.post(f"/v1/transfers/{tid}/prospect", json={"action": "proceed"})
        declined = await sarah.post(f"/v1/transfers/{tid}/rep", json={"action": "decline", "reason": "on a call"})
        assert declined.json()["status"] == "queued"
        await sarah.put("/v1/reps/sarah/presence", json={"status": "away"})
        await sarah.put("/v1/reps/sarah/presence", json={"status": "available"})
        for _ in range(100):
            if (view := (await bot.get(f"/v1/transfers/{tid}")).json())["status"] != "queued":
                break
            await asyncio.sleep(0.1)
        assert view["status"] == "offered" and view["rep"]["id"] == "sarah"


async def _search_attributes_are_set(client: Client) -> None:
    found = [w async for w in client.list_workflows("WtStatus = 'completed' AND WtRep = 'sarah'")]
    assert any(w.id == "xfer_12345" for w in found)


async def test_auth_and_bad_input_get_clear_json_errors(stack, acme_context):
    sarah_key = stack.rep("sarah")
    alex_key = stack.rep("alex")
    bot_key = await _bot_key(stack)
    async with (
        stack.http("nope") as stranger,
        stack.http(bot_key) as bot,
        stack.http(alex_key) as alex,
        stack.http(sarah_key) as sarah,
    ):
        unauthorised = await stranger.post("/v1/transfers", json={"context": acme_context})
        assert unauthorised.status_code == 401 and unauthorised.json()["error"]["code"] == "unauthorized"
        forbidden = await sarah.post("/v1/transfers", json={"context": acme_context})
        assert forbidden.status_code == 403

        typo = {**acme_context, "prospekt": {}}
        invalid = await bot.post("/v1/transfers", json={"context": typo})
        assert invalid.status_code == 422 and "prospekt" in invalid.json()["error"]["message"]
        bad_score = json.loads(json.dumps(acme_context))
        bad_score["qualification"]["score"] = 900
        assert "score" in (await bot.post("/v1/transfers", json={"context": bad_score})).json()["error"]["message"]
        not_json = await bot.post("/v1/transfers", content=b"{not json", headers={"content-type": "application/json"})
        assert not_json.status_code == 422
        assert not_json.json()["error"]["message"].startswith("body: not valid JSON at character 1: Expecting")
        untyped = await bot.post("/v1/transfers", content=json.dumps({"context": acme_context}),
                                 headers={"content-type": "text/plain"})  # a client that forgot the header
        assert untyped.status_code == 422 and "Content-Type: application/json" in untyped.json()["error"]["message"]
        huge = {**acme_context, "transfer_id": "xfer_huge", "conversation_transcript": "x" * 300_000}
        assert (await bot.post("/v1/transfers", json={"context": huge})).status_code == 422
        assert (await bot.get("/v1/transfers/nope")).status_code == 404

        body = {
            "transfer_id": "xfer_auth",
            "context": {**acme_context, "transfer_id": "xfer_auth"},
            "routing": {"team": "enterprise", "preferred_rep_id": "sarah"},
        }
        assert (await bot.post("/v1/transfers", json=body)).status_code == 201
        await bot.post("/v1/transfers/xfer_auth/prospect", json={"action": "proceed"})
        assert (await alex.get("/v1/transfers/xfer_auth")).status_code == 404  # not his transfer
        refused = await alex.post("/v1/transfers/xfer_auth/rep", json={"action": "accept"})
        assert refused.status_code == 404  # not his to know of, as his GET says
        assert (await sarah.get("/v1/transfers/xfer_auth")).json()["status"] == "offered"
        unknown_action = await sarah.post("/v1/transfers/xfer_auth/rep", json={"action": "teleport"})
        assert unknown_action.status_code == 422
        assert (await sarah.post("/v1/transfers/xfer_auth/prospect", json={"action": "left"})).status_code == 403
        assert (await bot.post("/v1/transfers/xfer_auth/prospect", json={"action": "left"})).json()[
            "status"
        ] == "cancelled"


async def test_rep_directory_presence_and_keys(stack):
    async with stack.http(ADMIN_KEY) as admin:
        rep = {
            "id": "wei",
            "name": "Wei Zhang",
            "email": "wei@example.com",
            "team": "enterprise",
            "languages": ["zh", "en"],
            "capacity": 2,
            "timezone": "Asia/Shanghai",
            "working_hours": {"mon": [["09:00", "18:00"]]},
        }
        assert (await admin.post("/v1/reps", json=rep)).status_code == 201
        assert (await admin.post("/v1/reps", json=rep)).status_code == 409
        bad = await admin.post("/v1/reps", json={**rep, "id": "x", "timezone": "Mars/Base"})
        assert bad.status_code == 422 and "time zone" in bad.json()["error"]["message"]
        patched = await admin.patch("/v1/reps/wei", json={"capacity": 3})
        assert patched.json()["rep"]["capacity"] == 3
        assert (await admin.patch("/v1/reps/ghost", json={"capacity": 3})).status_code == 404
        key = (await admin.post("/v1/api-keys", json={"role": "rep", "rep_id": "wei"})).json()["key"]
        assert (await admin.post("/v1/api-keys", json={"role": "rep"})).status_code == 422
    async with stack.http(key) as wei:
        assert (await wei.put("/v1/reps/wei/presence", json={"status": "available"})).json()["presence"] == "available"
        assert (await wei.put("/v1/reps/sarah/presence", json={"status": "away"})).status_code == 403
        assert (await wei.get("/v1/reps/me")).json()["rep"]["id"] == "wei"
        feed = await wei.get("/v1/reps/wei/calendar.ics")
        assert feed.status_code == 200 and feed.text.startswith("BEGIN:VCALENDAR")


async def test_trigger_evaluation_over_http(stack):
    conversation = json.loads((CONVERSATIONS / "chinese_language_routing.json").read_text(encoding="utf-8"))
    expected = conversation.pop("expected")
    async with stack.http(await _bot_key(stack)) as bot:
        answer = await bot.post("/v1/triggers/evaluate", json={"messages": conversation["messages"]})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["transfer"] is True and body["category"] == expected["category"]
        assert set(expected["triggers"]) <= {hit["name"] for hit in body["triggers"]}
        assert body["language"] == "zh" and body["timing"]["advice"] == "now"
        assert (await bot.post("/v1/triggers/evaluate", json={"messages": []})).status_code == 422


async def test_openapi_docs_describe_every_route(stack):
    async with httpx.AsyncClient(base_url=stack.url) as anyone:  # the docs need no key
        assert (await anyone.get("/docs")).status_code == 200
        paths = (await anyone.get("/openapi.json")).json()["paths"]
    for path in ("/v1/transfers", "/v1/transfers/{transfer_id}/prospect", "/v1/transfers/{transfer_id}/rep",
                 "/v1/transfers/{transfer_id}/feedback", "/v1/transfers/{transfer_id}/events", "/v1/reps",
                 "/v1/reps/{rep_id}/presence", "/v1/api-keys", "/v1/triggers/evaluate"):
        assert path in paths


async def test_absurd_numbers_in_a_conversation_get_an_answer_not_a_500(stack):
    async with stack.http(ADMIN_KEY) as bot:
        messages = [{"role": "prospect", "text": "We have " + "9" * 400 + " users and want a demo"}]
        answer = await bot.post("/v1/triggers/evaluate", json={"messages": messages})
        assert answer.status_code == 200 and answer.json()["transfer"] is True


async def test_evaluation_understands_a_paraphrase_the_rules_alone_miss(stack):
    """The API answers with the meaning model: the rules have no phrase for this Spanish request."""
    text = "Queremos ver una demostración del producto."
    async with stack.http(ADMIN_KEY) as bot:
        body = (await bot.post("/v1/triggers/evaluate",
                               json={"messages": [{"role": "prospect", "text": text}], "locale": "es"})).json()
    assert body["transfer"] is True and body["language"] == "es"
    assert [hit["name"] for hit in body["triggers"]] == ["demo_request"]
    assert body["triggers"][0]["evidence"][0]["text"] in text


async def test_evaluation_warns_when_no_human_is_available(stack):
    messages = [{"role": "prospect", "text": "Can I talk to a real person please?"}]
    async with stack.http(ADMIN_KEY) as bot:
        nobody = (await bot.post("/v1/triggers/evaluate", json={"messages": messages})).json()
        assert any("no human available" in warning for warning in nobody["warnings"])
        stack.rep("sarah")
        somebody = (await bot.post("/v1/triggers/evaluate", json={"messages": messages})).json()
        assert not any("no human available" in warning for warning in somebody["warnings"])


def test_a_broken_trigger_policy_stops_the_api_with_a_clear_error(tmp_path):
    bad = tmp_path / "policy.toml"
    bad.write_text("[triggers.demo_request]\npatterns = { en = ['(unclosed'] }\n")
    settings = Settings(database_url=f"sqlite:///{tmp_path}/app.db", trigger_policy=str(bad))
    with pytest.raises(PolicyError) as error:
        create_app(settings, build_services(Settings(database_url=settings.database_url)), client=None)
    assert str(bad) in str(error.value)


def test_the_rules_alone_answer_when_the_meaning_model_is_off(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/app.db", trigger_meaning=False)
    app = create_app(settings, build_services(settings), client=None)
    assert app.state.trigger_evaluator.meaning is None
