"""Metrics over HTTP from real transfers: won (continuation, demo booked, feedback), abandoned and cancelled."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from store.usage import UsageStore
from tests.e2e.conftest import ADMIN_KEY, METRICS_TOKEN


async def bot_key(stack) -> str:
    async with stack.http(ADMIN_KEY) as admin:
        return (await admin.post("/v1/api-keys", json={"role": "bot"})).json()["key"]


def start_body(context: dict, transfer_id: str, category: str) -> dict:
    return {"transfer_id": transfer_id, "context": {**context, "transfer_id": transfer_id},
            "routing": {"team": "enterprise"}, "trigger": {"category": category, "triggers": ["demo_request"]}}


async def _step(client: httpx.AsyncClient, path: str, **body) -> dict:
    response = await client.post(path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def transfer_id(stack, name: str) -> str:
    """Ids unique to this stack: the Temporal server outlives it, and a workflow id is taken for good."""
    return f"{name}-{stack.settings.task_queue}"


async def drive_transfers(stack, acme_context: dict) -> None:
    """`won`: Sarah picks up, the prospect replies, a demo is booked, both give feedback.
    `waiting`: queued behind it while Sarah's one seat is taken, then the prospect leaves (abandoned).
    `gone`: the prospect leaves while the bot is still introducing the rep (cancelled)."""
    won, waiting, gone = (transfer_id(stack, name) for name in ("won", "waiting", "gone"))
    sarah_key = stack.rep("sarah", name="Sarah Chen", capacity=1)
    async with stack.http(await bot_key(stack)) as bot, stack.http(sarah_key) as sarah:
        assert (await bot.post("/v1/transfers", json=start_body(acme_context, won, "positive"))).status_code == 201
        assert (await _step(bot, f"/v1/transfers/{won}/prospect", action="proceed"))["status"] == "offered"
        await _step(sarah, f"/v1/transfers/{won}/rep", action="accept")
        UsageStore(stack.services.db).record(won, "sarah", "summary_seen", datetime.now(UTC))  # as the console does

        assert (await bot.post("/v1/transfers", json=start_body(acme_context, waiting, "rescue"))).status_code == 201
        assert (await _step(bot, f"/v1/transfers/{waiting}/prospect", action="proceed"))["status"] == "queued"
        async with stack.http(ADMIN_KEY) as admin:
            queue = (await admin.get("/v1/queue")).json()["teams"]
        assert [(t["team"], [w["transfer_id"] for w in t["waiting"]]) for t in queue] == [("enterprise", [waiting])]
        assert queue[0]["waiting"][0]["position"] == 1 and queue[0]["waiting"][0]["prospect"] == "John Smith"
        assert (await _step(bot, f"/v1/transfers/{waiting}/prospect", action="left"))["status"] == "abandoned"
        assert (await bot.post("/v1/transfers", json=start_body(acme_context, gone, "necessary"))).status_code == 201
        assert (await _step(bot, f"/v1/transfers/{gone}/prospect", action="left"))["status"] == "cancelled"

        await _step(sarah, f"/v1/transfers/{won}/rep", action="ack")
        await _step(bot, f"/v1/transfers/{won}/prospect", action="replied")
        await _step(sarah, f"/v1/transfers/{won}/rep", action="outcome", outcome="demo_booked")
        await _step(sarah, f"/v1/transfers/{won}/feedback", **{"from": "rep", "context_helpful": True,
                                                               "missing": ["budget"], "prospect_repeated": False,
                                                               "improve": "Put the budget first"})
        await _step(bot, f"/v1/transfers/{won}/feedback", **{"from": "prospect", "csat": 5})
        await asyncio.wait_for(stack.client.get_workflow_handle(won).result(), 30)


async def _metrics_once_recorded(admin: httpx.AsyncClient) -> dict:
    """The workflow records its last facts as it closes; wait until the CSAT is there."""
    for _ in range(100):
        figures = (await admin.get("/v1/metrics")).json()["metrics"]
        if figures["satisfaction"]["count"]:
            return figures
        await asyncio.sleep(0.1)
    raise AssertionError(f"the metrics never showed the feedback: {figures}")


async def test_metrics_from_real_transfers(stack, acme_context):
    await drive_transfers(stack, acme_context)
    async with stack.http(ADMIN_KEY) as admin:
        figures = await _metrics_once_recorded(admin)
        assert figures["transfers"] == 3
        assert figures["completion"] == {"numerator": 1, "denominator": 3, "value": 1 / 3}
        assert figures["continuation"]["value"] == 1 and figures["conversion"]["value"] == 1
        assert figures["pickup"]["count"] == 1 and 0 <= figures["pickup"]["p50_seconds"] < 30
        assert figures["satisfaction"] == {"count": 1, "mean_csat": 5}
        assert figures["context_utilisation"]["summary"]["value"] == 1
        assert figures["by_branch"] == {"immediate": 1, "abandoned": 1, "cancelled": 1}
        assert figures["by_category"] == {"positive": 1, "rescue": 1, "necessary": 1}
        assert figures["offers"] == {"made": 1, "accepted": 1, "declined": 0, "deferred": 0, "expired": 0,
                                     "not_taken_over": 0, "callback": 0, "withdrawn": 0}

        other_team = (await admin.get("/v1/metrics", params={"team": "smb"})).json()["metrics"]
        assert other_team["transfers"] == 0 and other_team["completion"]["value"] is None
        assert (await admin.get("/v1/metrics", params={"rep": "sarah"})).json()["metrics"]["transfers"] == 3
        assert (await admin.get("/v1/metrics", params={"rep": "alex"})).json()["metrics"]["transfers"] == 0

        now = datetime.now(UTC)
        window = {"from": (now - timedelta(hours=2)).isoformat(), "to": (now + timedelta(hours=1)).isoformat()}
        series = (await admin.get("/v1/metrics/series", params={**window, "bucket": "hour"})).json()
        assert len(series["buckets"]) in (3, 4) and sum(b["metrics"]["transfers"] for b in series["buckets"]) == 3

        report = (await admin.get("/v1/feedback/report")).json()["report"]
        assert [(m["field"], m["count"]) for m in report["missing"]] == [("budget", 1)]
        assert report["prospect_repeated"]["value"] == 0
        assert [c["text"] for c in report["improvements"]] == ["Put the budget first"]

    async with stack.http(METRICS_TOKEN) as scraper:  # Prometheus, with its scrape token
        exposition = (await scraper.get("/metrics")).text
    assert "warm_transfer_completion_rate 0.333" in exposition
    assert 'warm_transfer_transfers_by_branch{branch="immediate"} 1.0' in exposition
    assert "warm_transfer_offers 1.0" in exposition
    assert 'warm_transfer_offers_by_end{end="accepted"} 1.0' in exposition
    assert 'warm_transfer_offers_by_end{end="expired"} 0.0' in exposition
    for step in ("routing", "rep_answer", "take_over", "conversation"):  # the won transfer went through each
        assert f'warm_transfer_step_seconds{{quantile="0.5",step="{step}"}}' in exposition
    assert 'warm_transfer_http_request_duration_seconds_count{method="GET",route="/v1/metrics",status="200"}' \
        in exposition


async def test_prometheus_scrapes_with_its_token_or_an_admin_key_and_nothing_else(stack):
    """/metrics has a team's business figures (conversion, satisfaction): not for anyone who can reach the port."""
    rep_key = stack.rep("sarah")
    async with httpx.AsyncClient(base_url=stack.url) as anyone:
        refused = await anyone.get("/metrics")
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
        for key, status in ((METRICS_TOKEN, 200), (ADMIN_KEY, 200), (rep_key, 403), (stack.bot_key, 403),
                            (METRICS_TOKEN[:-1], 401)):
            answer = await anyone.get("/metrics", headers={"Authorization": f"Bearer {key}"})
            assert answer.status_code == status, key
        # The scrape token reads nothing else.
        assert (await anyone.get("/v1/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})).status_code \
            == 401


async def test_metrics_need_an_admin_and_valid_parameters(stack):
    rep_key = stack.rep("sarah")
    async with stack.http(rep_key) as sarah, stack.http(ADMIN_KEY) as admin, stack.http("nope") as stranger:
        for path in ("/v1/metrics", "/v1/metrics/series", "/v1/feedback/report", "/v1/queue"):
            assert (await sarah.get(path)).status_code == 403
            assert (await stranger.get(path)).status_code == 401
        for params in ({"from": "yesterday"}, {"to": "2025-13-01"}, {"from": "2025-03-02", "to": "2025-03-01"}):
            bad = await admin.get("/v1/metrics", params=params)
            assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request", bad.text
        assert (await admin.get("/v1/metrics/series", params={"bucket": "week"})).status_code == 422
        too_many = await admin.get("/v1/metrics/series", params={"from": "2020-01-01", "bucket": "hour"})
        assert too_many.status_code == 422 and "bucket" in too_many.json()["error"]["message"]
        empty = (await admin.get("/v1/metrics", params={"from": "2025-03-01", "to": "2025-03-02"})).json()
        assert empty["window"]["from"].startswith("2025-03-01T00:00:00") and empty["metrics"]["transfers"] == 0
