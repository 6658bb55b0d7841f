"""The rep console in headless Chromium on the real stack: an offer arrives live, is accepted, worked, closed."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.async_api import Page, expect

from domain.context import Prospect
from store.usage import UsageStore
from tests.e2e.browser.conftest import screenshot
from tests.e2e.conftest import ADMIN_KEY

TRANSCRIPT = ("Prospect: Hi, what does the enterprise plan cost for 500+ users?\n"
              "Ava: Happy to help! Which tools do you need it to work with?\n"
              "Prospect: Salesforce, and we need SSO. Migrating worries me a bit.\n"
              "Ava: Understood. Would a demo with our enterprise team help?\n"
              "Prospect: Yes, we want this live before Q2.")
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


async def _page(stack, browser, outside: list[str], **options) -> Page:
    context = await browser.new_context(**options)
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.url)
    page = await context.new_page()
    page.on("request", lambda request: None if request.url.startswith(stack.url) else outside.append(request.url))
    return page


async def _sign_in(page: Page, stack, key: str, name: str) -> None:
    await page.goto(f"{stack.url}/console")
    await page.locator("#key").fill(key)
    await page.keyboard.press("Enter")  # the form works from the keyboard
    await expect(page.locator("#rep-name")).to_have_text(name)
    await expect(page.locator("#stream-state")).not_to_be_empty()


async def _bot(stack, *steps: tuple[str, dict]) -> None:
    """The stack's bot's requests, in order: (path, body)."""
    async with stack.http(stack.bot_key) as bot:
        for path, body in steps:
            response = await bot.post(path, json=body)
            assert response.status_code < 300, response.text


def _start(acme_context: dict, transfer_id: str, rep_id: str) -> list[tuple[str, dict]]:
    context = {**acme_context, "transfer_id": transfer_id, "conversation_transcript": TRANSCRIPT}
    body = {"transfer_id": transfer_id, "context": context,
            "routing": {"team": "enterprise", "preferred_rep_id": rep_id}, "bot": {"name": "Ava"}}
    return [("/v1/transfers", body), (f"/v1/transfers/{transfer_id}/prospect", {"action": "proceed"})]


async def _usage(stack, transfer_id: str, expected: set[str]) -> set[str]:
    """The items recorded for the transfer, once `expected` are all in (the console posts them in the background)."""
    for _ in range(50):
        items = {u.item for u in UsageStore(stack.services.db).between() if u.transfer_id == transfer_id}
        if expected <= items:
            return items
        await asyncio.sleep(0.1)
    return items


async def test_a_rep_takes_an_offer_from_alert_to_feedback(stack, browser, acme_context):
    sarah_key, alex_key = stack.rep("sarah", name="Sarah Chen"), stack.rep("alex", name="Alex Kim")
    outside: list[str] = []
    sarah, alex = await _page(stack, browser, outside), await _page(stack, browser, outside)
    await _sign_in(sarah, stack, sarah_key, "Sarah Chen")
    await _sign_in(alex, stack, alex_key, "Alex Kim")
    webinar = datetime(2024, 1, 9, tzinfo=UTC)
    stack.services.integrations.crm.log_activity(  # John is in the CRM: his account history shows
        "webinar", Prospect(email="john@acme.com", company="Acme Corp"), "webinar", "Attended the Q1 webinar", webinar)

    await _bot(stack, *_start(acme_context, "xfer_console", "sarah"))
    card = sarah.locator("article.offer")
    await expect(card).to_contain_text("Prospect: John Smith, VP Sales @ Acme Corp", timeout=15_000)
    await _bot(stack, ("/v1/transfers/xfer_console/prospect", {"action": "note", "note": "We also need SOC 2"}))
    await expect(card).to_contain_text("Score: 85/100")
    await expect(card).to_contain_text("Transfer reason: Ready for demo, enterprise deal")
    await expect(card).to_contain_text("The prospect added: We also need SOC 2")
    await expect(card.locator(".countdown")).to_have_text(re.compile(r"Expires in 0:[0-5]\d"))
    await screenshot(sarah, "console-offer.png", full_page=True)

    await expect(alex.locator("article.offer")).to_have_count(0)  # the other rep never sees it ...
    async with stack.http(alex_key) as alex_api:  # ... and cannot act on it
        assert (await alex_api.post("/v1/transfers/xfer_console/rep", json={"action": "accept"})).status_code == 404
        assert (await alex_api.get("/v1/transfers/xfer_console/brief")).status_code == 404

    await card.get_by_role("button", name="Accept").click()
    panel = sarah.locator("article.transfer")
    await expect(panel.locator(".summary")).to_contain_text("John Smith")
    await sarah.reload()  # the accepted transfer is still on the desk
    await expect(panel.locator(".summary")).to_contain_text("John Smith")
    await expect(panel.locator(".status")).to_contain_text("waiting for you to take over")
    await expect(panel.locator(".history")).to_contain_text("Webinar: Attended the Q1 webinar")
    await panel.get_by_text("Full transcript", exact=True).click()
    await expect(panel.locator(".transcript pre")).to_have_text(TRANSCRIPT)
    await panel.get_by_label("Salesforce integration details").check()
    await panel.get_by_role("button", name="Copy opener").click()
    opener = await panel.locator(".opener").text_content()
    assert "Sarah" in opener and "Ava" in opener
    assert await sarah.evaluate("navigator.clipboard.readText()") == opener
    await screenshot(sarah, "console-transfer.png", full_page=True)

    await panel.get_by_role("button", name="Taking over").click()
    await panel.get_by_role("button", name="Demo booked").click()
    await panel.get_by_role("group", name="Was the context helpful?").get_by_label("Yes").check()
    await panel.get_by_label("What was missing?").fill("budget, decision maker")
    await panel.get_by_role("group", name="Did the prospect have to repeat anything?").get_by_label("No").check()
    await panel.get_by_label("How could the handoff improve?").fill("Say which plan they are on")
    await panel.get_by_role("button", name="Send feedback").click()
    await expect(panel).to_contain_text("Thank you")

    async with stack.http(ADMIN_KEY) as admin:
        view = (await admin.get("/v1/transfers/xfer_console")).json()
    assert view["status"] == "completed" and view["outcome"] == "demo_booked"
    feedback = [entry["status"] for entry in view["timeline"] if entry["detail"] == "Feedback from the rep"]
    assert feedback == ["completed"]
    expected = {"summary_seen", "transcript_expanded", "checklist:1", "opener_copied"}
    assert expected <= await _usage(stack, "xfer_console", expected)
    await expect(alex.locator("article")).to_have_count(0)
    assert outside == []


async def test_a_chinese_rep_works_in_chinese_on_a_phone(stack, browser, acme_context):
    mei_key = stack.rep("mei", name="Mei Lin", locale="zh-CN")
    outside: list[str] = []
    mei = await _page(stack, browser, outside, **PHONE)
    await _sign_in(mei, stack, mei_key, "Mei Lin")
    await expect(mei.locator("#offers-heading")).to_have_text("转接提醒")

    await _bot(stack, *_start(acme_context, "xfer_console_zh", "mei"))
    card = mei.locator("article.offer")
    await expect(card).to_contain_text("潜在客户:John Smith", timeout=15_000)  # the alert in Chinese, data as written
    await card.get_by_role("button", name="接受").click()
    panel = mei.locator("article.transfer")
    await expect(panel.get_by_role("heading", name="快速摘要")).to_be_visible()
    await expect(panel.get_by_role("button", name="开始接管")).to_be_focused()
    await screenshot(mei, "console-phone.png")
    assert outside == []


async def test_offers_leave_the_screen_when_withdrawn_deferred_booked_or_expired(stack, browser, acme_context):
    sarah_key, alex_key = stack.rep("sarah", name="Sarah Chen"), stack.rep("alex", name="Alex Kim")
    outside: list[str] = []
    sarah = await _page(stack, browser, outside)
    alex = await _page(stack, browser, outside, timezone_id="Asia/Shanghai")
    await _sign_in(sarah, stack, sarah_key, "Sarah Chen")
    await _sign_in(alex, stack, alex_key, "Alex Kim")
    messages = sarah.locator("#messages")

    await _bot(stack, *_start(acme_context, "xfer_left", "sarah"))
    await expect(sarah.locator("article.offer")).to_have_count(1, timeout=15_000)
    await _bot(stack, ("/v1/transfers/xfer_left/prospect", {"action": "left"}))
    await expect(sarah.locator("article.offer")).to_have_count(0)
    await expect(messages).to_contain_text("John Smith is no longer waiting")

    await _bot(stack, *_start(acme_context, "xfer_deferred", "sarah"))
    card = sarah.locator("article.offer")
    pick_list = card.get_by_label("Colleague")  # who can take it now, as Slack's card lists them: not Sarah herself
    await expect(pick_list.locator("option")).to_have_text(["Whoever is free first", "Alex Kim"])
    await pick_list.select_option(label="Alex Kim")
    await card.get_by_role("button", name="Defer to colleague").click()
    await expect(messages).to_contain_text("Passed John Smith on to a colleague.")

    offered_to_alex = alex.locator("article.offer")
    callback = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=2)).replace(hour=10, minute=0, second=0,
                                                                                      microsecond=0)
    await offered_to_alex.get_by_label("Call back at").fill(callback.strftime("%Y-%m-%dT%H:%M"))
    await offered_to_alex.get_by_role("button", name="Schedule callback").click()
    await expect(alex.locator("#messages")).to_contain_text("Callback with John Smith booked for")
    await expect(offered_to_alex).to_have_count(0)
    async with stack.http(alex_key) as alex_api:
        view = (await alex_api.get("/v1/transfers/xfer_deferred")).json()
    assert view["status"] == "callback_scheduled"
    assert datetime.fromisoformat(view["follow_up_at"]) == callback.astimezone(UTC)  # the browser's own offset

    stack.settings.offer_timeout = 5  # the smallest the settings allow
    await _bot(stack, *_start(acme_context, "xfer_expired", "sarah"))
    await expect(sarah.locator("article.offer")).to_have_count(1, timeout=15_000)
    await expect(messages).to_contain_text("The offer for John Smith expired.", timeout=10_000)
    await expect(sarah.locator("article.offer")).to_have_count(0)
    await expect(sarah.locator("#presence")).to_have_value("away", timeout=10_000)  # an unanswered offer sets away
    assert outside == []


async def test_an_offer_answered_elsewhere_leaves_the_screen_for_the_desk(stack, browser, acme_context):
    """Accepted in Slack, or by any other client of the API: the card goes, and the transfer is on the desk."""
    sarah_key = stack.rep("sarah", name="Sarah Chen")
    outside: list[str] = []
    sarah = await _page(stack, browser, outside)
    await _sign_in(sarah, stack, sarah_key, "Sarah Chen")
    await _bot(stack, *_start(acme_context, "xfer_elsewhere", "sarah"))
    await expect(sarah.locator("article.offer")).to_have_count(1, timeout=15_000)
    async with stack.http(sarah_key) as elsewhere:
        accepted = await elsewhere.post("/v1/transfers/xfer_elsewhere/rep", json={"action": "accept"})
        assert accepted.json()["status"] == "connecting"
    await expect(sarah.locator("article.offer")).to_have_count(0)
    await expect(sarah.locator("article.transfer")).to_have_count(1)
    assert outside == []
