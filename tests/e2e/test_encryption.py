"""Prospects' personal data never sits in clear in Temporal; admins read it through the codec server; keys rotate
without breaking running transfers."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime

from google.protobuf import json_format
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.converter import DataConverter

from api.routers.codec import SESSION_SECONDS, CodecSessions
from store.tables import ApiKeyRow
from tests.e2e.conftest import ADMIN_KEY, UI_ORIGIN
from tests.workflows.harness import Harness
from workers.codec import KEY_ID, KeyRing
from workers.temporal import data_converter
from workflows.transfer import TransferWorkflow

TRANSCRIPT = "Prospect: our churn is killing us, call me on my cell\nBot: I can connect you with our team."


def personal(context: dict) -> list[str]:
    p = context["prospect"]
    return [p["name"], p["email"], p["phone"], p["company"], "churn is killing us"]


async def _transfer_through_the_api(stack, acme_context) -> str:
    sarah = stack.rep("sarah", name="Sarah Chen")
    context = {**acme_context, "transfer_id": None, "conversation_transcript": TRANSCRIPT}  # a new transfer each
    async with stack.http(ADMIN_KEY) as bot, stack.http(sarah) as rep:
        view = (await bot.post("/v1/transfers", json={"context": context, "routing": {"team": "enterprise"}})).json()
        tid = view["transfer_id"]
        await bot.post(f"/v1/transfers/{tid}/prospect", json={"action": "note", "note": "Reach me at 555-0199"})
        await rep.post(f"/v1/transfers/{tid}/rep", json={"action": "decline", "reason": "not my account"})
    return tid


async def test_nothing_personal_is_readable_in_temporal(stack, acme_context):
    tid = await _transfer_through_the_api(stack, acme_context)
    handle = stack.client.get_workflow_handle(tid)
    raw_history = (await handle.fetch_history()).to_json()  # payloads as Temporal (and its UI) keep them
    described = await handle.describe()
    raw_description = str(described.raw_description)
    for secret in [*personal(acme_context), "555-0199", "not my account"]:
        assert secret not in raw_history and secret not in raw_description, secret
    assert '"encryption-key-id"' in raw_history
    indexed = json.dumps({key.name: value for key, value in
                          ((k.key, k.value) for k in described.typed_search_attributes)}, default=str)
    assert not any(secret in indexed for secret in personal(acme_context))
    assert (await described.static_summary()).startswith("John Smith @ Acme Corp")  # readable with the key ring


async def test_admins_decode_payloads_through_the_codec_server_and_nobody_else(stack, acme_context):
    tid = await _transfer_through_the_api(stack, acme_context)
    history = await stack.client.get_workflow_handle(tid).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    body = {"payloads": [json.loads(_json(started))]}
    bot_key = stack.services.keys.issue("bot", None, datetime.now(UTC))
    async with stack.http(ADMIN_KEY) as admin, stack.http(bot_key) as bot, stack.http("") as anonymous:
        decoded = await admin.post("/codec/decode", json=body)
        assert decoded.status_code == 200
        assert "John Smith" in _data(decoded.json()["payloads"][0])
        assert (await bot.post("/codec/decode", json=body)).status_code == 403
        assert (await anonymous.post("/codec/decode", json=body, headers={"Authorization": ""})).status_code == 401
        encoded = (await admin.post("/codec/encode", json=decoded.json())).json()
        assert "John Smith" not in json.dumps(encoded)
        assert (await admin.post("/codec/decode", json=encoded)).json() == decoded.json()
        broken = await admin.post("/codec/decode", json={"payloads": [{"metadata": "nope"}]})
        assert broken.status_code == 422 and broken.json()["error"]["code"] == "invalid_request"


async def test_the_codec_servers_refusals_are_documented_as_error_bodies(stack):
    bot_key = stack.services.keys.issue("bot", None, datetime.now(UTC))
    too_large = {"payloads": [{"data": "A" * 1_100_000}]}  # over the API's 1 MiB
    async with stack.http(ADMIN_KEY) as admin, stack.http(bot_key) as bot, stack.http("") as anonymous:
        document = (await anonymous.get("/openapi.json", headers={"Authorization": ""})).json()
        for path in ("/codec/encode", "/codec/decode"):
            answers = [await anonymous.post(path, json={"payloads": []}, headers={"Authorization": ""}),
                       await bot.post(path, json={"payloads": []}), await admin.post(path, json=too_large),
                       await admin.post(path, json={"payloads": "nope"})]
            assert [answer.status_code for answer in answers] == [401, 403, 413, 422]
            documented = document["paths"][path]["post"]["responses"]
            for answer in answers:
                schema = documented[str(answer.status_code)]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"} and "error" in answer.json()


async def test_an_unknown_key_is_unauthorized_not_forbidden_on_every_codec_route(stack):
    """401 is no valid key (none, unknown, revoked, or a stale session cookie); 403 a valid key of another role."""
    async with stack.http("garbage") as unknown, stack.http("") as browser:
        browser.headers.pop("Authorization")
        browser.cookies.set("wt_codec_session", "garbage", path="/codec")
        for client in (unknown, browser):
            for path in ("/codec/decode", "/codec/encode", "/codec/session"):
                answer = await client.post(path, json={"payloads": []})
                assert answer.status_code == 401, (path, answer.text)
                assert answer.json()["error"]["code"] == "unauthorized"


async def test_payloads_that_are_not_base64_are_refused_naming_them(stack):
    """Protobuf's JSON parser would skip what is not base64: "!!!" read as no bytes, answered as an empty payload."""
    fine = {"metadata": {"encoding": "anNvbi9wbGFpbg=="}, "data": "eyJhIjoxfQ=="}  # json/plain {"a":1}
    async with stack.http(ADMIN_KEY) as admin:
        for path in ("/codec/decode", "/codec/encode"):
            for bad, field in [({"data": "!!!"}, "payloads.1.data"),
                               ({"metadata": {"encoding": "json: plain"}}, "payloads.1.metadata.encoding"),
                               ({"data": "A"}, "payloads.1.data")]:
                answer = await admin.post(path, json={"payloads": [fine, bad]})
                assert answer.status_code == 422, (path, bad, answer.text)
                error = answer.json()["error"]
                assert error["code"] == "invalid_request" and field in error["message"]
                assert error["details"] == [{"field": field, "problem": "not valid base64", "type": "base64"}]
            assert (await admin.post(path, json={"payloads": [fine, {"data": "AA"}]})).status_code == 200  # unpadded


async def test_a_browser_signed_in_decodes_from_the_temporal_ui_only(stack, acme_context):
    tid = await _transfer_through_the_api(stack, acme_context)
    history = await stack.client.get_workflow_handle(tid).fetch_history()
    body = {"payloads": [json.loads(_json(history.events[0].workflow_execution_started_event_attributes.input
                                          .payloads[0]))]}
    async with stack.http(ADMIN_KEY) as signing_in, stack.http("") as browser:
        browser.headers.pop("Authorization")
        preflight = await browser.options("/codec/decode", headers={"Origin": UI_ORIGIN,
                                                                     "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == UI_ORIGIN
        assert preflight.headers["access-control-allow-credentials"] == "true"
        assert (await browser.post("/codec/decode", json=body, headers={"Origin": UI_ORIGIN})).status_code == 401
        session = await signing_in.post("/codec/session")
        assert session.status_code == 204
        cookie = session.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/codec" in cookie
        browser.cookies.update(session.cookies)
        from_ui = await browser.post("/codec/decode", json=body, headers={"Origin": UI_ORIGIN})
        assert from_ui.status_code == 200 and "John Smith" in _data(from_ui.json()["payloads"][0])
        assert from_ui.headers["access-control-allow-origin"] == UI_ORIGIN
        elsewhere = await browser.post("/codec/decode", json=body, headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in elsewhere.headers  # the browser keeps the answer from that page
        await browser.delete("/codec/session")
        browser.cookies.clear()
        assert (await browser.post("/codec/decode", json=body)).status_code == 401
        page = await browser.get("/codec")
        assert page.status_code == 200 and "Include cross-origin credentials" in page.text


async def test_the_session_cookie_is_a_signed_expiring_session_not_the_key(stack):
    """Any API process with the same secret accepts it; an altered, expired or revoked one is refused (401)."""
    admin_key = stack.services.keys.issue("admin", None, datetime.now(UTC))
    key_id = stack.services.keys.resolve(admin_key).key_id
    secret = stack.settings.webhook_secret.get_secret_value()
    async with stack.http(admin_key) as signing_in, stack.http("") as browser:
        browser.headers.pop("Authorization")
        session = await signing_in.post("/codec/session")
        token = session.cookies["wt_codec_session"]
        assert admin_key not in session.headers["set-cookie"] and ADMIN_KEY not in token
        assert CodecSessions.from_secret(secret).key_id(token) == key_id  # what another API process reads

        async def decoding(cookie: str) -> int:
            browser.cookies.clear()
            browser.cookies.set("wt_codec_session", cookie, path="/codec")
            return (await browser.post("/codec/decode", json={"payloads": []})).status_code

        assert await decoding(token) == 200
        assert await decoding(CodecSessions.from_secret(secret).issue(key_id)) == 200  # made by another process
        claims, _, signature = token.partition(".")
        other = CodecSessions.from_secret(secret).issue(key_id + 1).partition(".")[0]
        ended = CodecSessions.from_secret(secret, clock=lambda: time.time() - SESSION_SECONDS - 1).issue(key_id)
        for refused in (f"{other}.{signature}", f"{claims}.{signature[:-2]}", ended, admin_key, "",
                        CodecSessions.from_secret("another secret").issue(key_id)):
            assert await decoding(refused) == 401, refused
        with stack.services.db.session() as db:  # the key is revoked: its sessions end with it
            db.get(ApiKeyRow, key_id).revoked_at = datetime.now(UTC)
        assert await decoding(token) == 401


async def test_a_key_is_rotated_while_a_transfer_runs(local_env, tmp_path):
    old, new = KeyRing.new_entry("old"), KeyRing.new_entry("new")
    address = local_env.client.service_client.config.target_host
    before = await _client(address, data_converter(KeyRing.parse(old)))
    async with Harness(before, tmp_path) as first:
        first.rep("sarah")
        handle, _ = await first.start_ready()
        await first.prospect(handle, "proceed")  # offered to Sarah, on the old key
        task_queue = first.task_queue
    after = await _client(address, data_converter(KeyRing.parse(f"{new},{old}")))
    second = Harness(after, tmp_path)
    second.task_queue = task_queue  # the same transfers, on a worker with the rotated ring
    async with second:
        result = await second.finish(after.get_workflow_handle_for(TransferWorkflow.run, handle.id), "sarah")
    assert result.status == "completed"
    history = await after.get_workflow_handle(handle.id).fetch_history()
    assert _key_ids(json.loads(history.to_json())) == {"old", "new"}


def _key_ids(node) -> set[str]:
    """The key ids of every encrypted payload in a history's JSON."""
    if isinstance(node, list):
        return set().union(*map(_key_ids, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = {base64.b64decode(node["metadata"][KEY_ID]).decode()} if KEY_ID in node.get("metadata", {}) else set()
    return found.union(*map(_key_ids, node.values()))


async def _client(address: str, converter: DataConverter) -> Client:
    return await Client.connect(address, data_converter=converter)


def _json(payload: Payload) -> str:
    return json_format.MessageToJson(payload)


def _data(payload: dict) -> str:
    return base64.b64decode(payload["data"]).decode()


async def test_logs_carry_ids_and_never_personal_data(stack, acme_context, caplog):
    caplog.set_level("DEBUG")
    await _transfer_through_the_api(stack, acme_context)
    logged = caplog.text
    assert logged  # the worker and the API did log, at debug level
    for secret in [*personal(acme_context), "555-0199"]:
        assert secret not in logged, secret
