"""What the rep console reads and records: /brief (the transfer as the rep sees it) and /usage (what they opened)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from domain.context import Prospect
from store.usage import UsageStore
from tests.e2e.conftest import ADMIN_KEY


async def _offer(stack, acme_context: dict, transfer_id: str, rep_id: str) -> None:
    body = {"transfer_id": transfer_id, "context": {**acme_context, "transfer_id": transfer_id},
            "routing": {"team": "enterprise", "preferred_rep_id": rep_id}, "bot": {"name": "Ava"}}
    async with stack.http(ADMIN_KEY) as bot:
        assert (await bot.post("/v1/transfers", json=body)).status_code == 201
        assert (await bot.post(f"/v1/transfers/{transfer_id}/prospect", json={"action": "proceed"})).json()[
            "status"] == "offered"


def _crm_account_for_acme(stack) -> None:
    crm = stack.services.integrations.crm
    crm.upsert_account("acc-acme", company="Acme Corp", contact_name="John Smith", email="john@acme.com")
    crm.log_activity("webinar", Prospect(email="john@acme.com"), "webinar", "Attended the Q1 webinar",
                     datetime(2024, 1, 2, tzinfo=UTC))


async def test_the_brief_is_for_the_transfers_rep_in_her_language(stack, acme_context):
    sarah_key, alex_key, mei_key = stack.rep("sarah", name="Sarah Chen"), stack.rep("alex"), stack.rep(
        "mei", name="Mei Lin", locale="zh", capacity=2)
    _crm_account_for_acme(stack)
    await _offer(stack, acme_context, "xfer_brief", "sarah")
    async with stack.http(sarah_key) as sarah, stack.http(alex_key) as alex, stack.http(ADMIN_KEY) as admin:
        brief = (await sarah.get("/v1/transfers/xfer_brief/brief")).json()
        assert brief["status"] == "offered" and brief["offer_expires_at"]
        assert brief["alert"]["band"] == "hot" and "Prospect: John Smith, VP Sales @ Acme Corp" in brief["alert"][
            "lines"]
        assert "John Smith" in brief["summary"] and "Salesforce integration details" in brief["checklist"]
        assert "Sarah" in brief["opener"] and "Ava" in brief["opener"]  # the rep's first name, the bot's name
        assert brief["next_steps"] == brief["checklist"][-1:] and brief["talking_points"] and brief["avoid"]
        assert brief["context"]["conversation_transcript"] == acme_context["conversation_transcript"]
        assert brief["account"]["account_id"] == "acc-acme"
        assert [a["text"] for a in brief["account"]["history"]] == ["Attended the Q1 webinar"]

        assert (await alex.get("/v1/transfers/xfer_brief/brief")).status_code == 404  # never learns it exists
        assert (await admin.get("/v1/transfers/xfer_brief/brief")).status_code == 200
        bot_key = (await admin.post("/v1/api-keys", json={"role": "bot"})).json()["key"]
    async with stack.http(bot_key) as bot:
        assert (await bot.get("/v1/transfers/xfer_brief/brief")).json()["error"]["code"] == "forbidden"

    await _offer(stack, acme_context, "xfer_brief_zh", "mei")
    async with stack.http(mei_key) as mei:
        chinese = (await mei.get("/v1/transfers/xfer_brief_zh/brief")).json()
        assert chinese["locale"] == "zh" and chinese["alert"]["headline"].startswith("🔥 高价值")
        assert "潜在客户:John Smith" in chinese["alert"]["lines"][0]  # prospect data as written
        # The opener is said to the prospect: in the bot's language with them (English here), not the rep's.
        opener = chinese["opener"]
        assert opener.startswith("Hi John") and not any("\u4e00" <= ch <= "\u9fff" for ch in opener)

    # A package with only a transcript: what the prospect wrote leads, in the rep's language; the approach we
    # derived is not a talking point repeating the things to avoid (in the prospect's language).
    transcript = "Prospect: We need SSO for 40 people. Our budget is $20k and we want to go live by March."
    await _offer(stack, {"prospect": {"name": "Ana"}, "conversation_transcript": transcript}, "xfer_brief_bare", "mei")
    async with stack.http(mei_key) as mei:
        bare = (await mei.get("/v1/transfers/xfer_brief_bare/brief")).json()
    assert any("$20k" in point for point in bare["talking_points"])
    assert not any("Avoid" in point or "避免" in point for point in bare["talking_points"])
    assert bare["context"]["recommended_approach"]  # still in the package, for the CRM and the bot


async def test_usage_is_counted_once_and_only_for_the_transfers_rep(stack, acme_context):
    sarah_key, alex_key = stack.rep("sarah"), stack.rep("alex")
    await _offer(stack, acme_context, "xfer_usage", "sarah")
    async with stack.http(sarah_key) as sarah, stack.http(alex_key) as alex, stack.http(ADMIN_KEY) as admin:
        for item in ("summary_seen", "summary_seen", "checklist:2"):
            assert (await sarah.post("/v1/transfers/xfer_usage/usage", json={"item": item})).status_code == 204
        assert (await alex.post("/v1/transfers/xfer_usage/usage", json={"item": "opener_copied"})).status_code == 404
        assert (await admin.post("/v1/transfers/xfer_usage/usage", json={"item": "opener_copied"})).status_code == 403
        for bad in ("Summary Seen", "checklist:x", "x" * 41, "'; drop table rep_usage"):
            refused = await sarah.post("/v1/transfers/xfer_usage/usage", json={"item": bad})
            assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_request"
        assert (await sarah.post("/v1/transfers/nope/usage", json={"item": "summary_seen"})).status_code == 404
    rows = UsageStore(stack.services.db).between()
    assert [(u.transfer_id, u.rep_id, u.item) for u in rows] == [
        ("xfer_usage", "sarah", "summary_seen"), ("xfer_usage", "sarah", "checklist:2")]


async def test_the_console_is_served_from_the_app_and_nothing_else(stack):
    async with httpx.AsyncClient(base_url=stack.url) as anyone:
        page = await anyone.get("/console")
        assert page.status_code == 200 and 'src="/console/js/main.js"' in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert (await anyone.get("/console/js/main.js")).headers["content-type"].startswith("text/javascript")
        assert (await anyone.get("/console/i18n/zh.json")).json()["offer.accept"] == "接受"
        for outside in ("/console/%2e%2e/routers/console.py", "/console/..%2Fapp.py", "/console/nope.js"):
            assert (await anyone.get(outside)).status_code == 404
