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
    # An unanswered offer sets away.
    await expect(sarah.locator("#presence [aria-pressed=true]")).to_have_text("Away", timeout=10_000)
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


def _shifted_clock(seconds: float) -> str:
    """An init script that sets the page's clock `seconds` off the real time (a rep's computer set wrong)."""
    return f"""(() => {{
  const shift = {seconds * 1000};
  const RealDate = Date;
  class ShiftedDate extends RealDate {{
    constructor(...args) {{ if (args.length) super(...args); else super(RealDate.now() + shift); }}
    static now() {{ return RealDate.now() + shift; }}
  }}
  globalThis.Date = ShiftedDate;
}})();"""


async def test_offers_count_down_on_the_servers_clock(stack, browser, acme_context):
    """A rep's clock 45 s fast still gets the card, with the time the server gives; one 60 s slow loses the card when
    the server closes the offer, not when its own clock says so."""
    sarah_key, alex_key = stack.rep("sarah", name="Sarah Chen"), stack.rep("alex", name="Alex Kim")
    outside: list[str] = []
    sarah, alex = await _page(stack, browser, outside), await _page(stack, browser, outside)
    await sarah.context.add_init_script(_shifted_clock(45))
    await alex.context.add_init_script(_shifted_clock(-60))
    await _sign_in(sarah, stack, sarah_key, "Sarah Chen")
    await _sign_in(alex, stack, alex_key, "Alex Kim")
    assert await sarah.evaluate("Date.now() - performance.timeOrigin - performance.now()") > 40_000  # 45 s fast

    await _bot(stack, *_start(acme_context, "xfer_fast_clock", "sarah"))
    card = sarah.locator("article.offer")
    await expect(card).to_have_count(1, timeout=15_000)
    await expect(card.locator(".countdown")).to_have_text(re.compile(r"Expires in 0:(1[5-9]|2\d|30)"))
    await card.get_by_role("button", name="Accept").click()
    await expect(sarah.locator("article.transfer .status")).to_contain_text("waiting for you to take over")

    stack.settings.offer_timeout = 5
    await _bot(stack, *_start(acme_context, "xfer_slow_clock", "alex"))
    card = alex.locator("article.offer")
    await expect(card).to_have_count(1, timeout=15_000)
    await expect(card.locator(".countdown")).to_have_text(re.compile(r"Expires in 0:0[0-5]"))
    await expect(alex.locator("#messages")).to_contain_text("The offer for John Smith expired.", timeout=15_000)
    await expect(card).to_have_count(0)
    assert outside == []


async def test_an_accepted_transfer_not_taken_over_in_time_says_so(stack, browser, acme_context):
    """Accepted, then not taken over before the ack timeout: the view says the transfer failed and offers nothing
    more; the message about it is shown once, not again at each reload."""
    sarah_key = stack.rep("sarah", name="Sarah Chen")
    outside: list[str] = []
    sarah = await _page(stack, browser, outside)
    await _sign_in(sarah, stack, sarah_key, "Sarah Chen")
    stack.settings.ack_timeout = 5  # the smallest the settings allow
    await _bot(stack, *_start(acme_context, "xfer_lapsed", "sarah"))
    await sarah.locator("article.offer").get_by_role("button", name="Accept").click(timeout=15_000)
    panel = sarah.locator("article.transfer")
    await expect(panel.get_by_role("button", name="Taking over")).to_be_visible()

    await expect(panel.locator(".status")).to_contain_text("Status: recovering", timeout=15_000)
    await expect(panel.get_by_role("button", name="Taking over")).to_have_count(0)
    await expect(panel.locator(".stage")).to_contain_text("The transfer failed")
    messages = sarah.locator("#messages")
    await expect(messages).to_contain_text("The transfer of John Smith failed")

    # The prospect asks for her call back: the panel waits for it, and gives way to its offer when it is due.
    due = (datetime.now(UTC) + timedelta(seconds=4)).isoformat()
    await _bot(stack, ("/v1/transfers/xfer_lapsed/prospect", {"action": "callback", "callback_at": due}))
    await expect(panel.locator(".status")).to_contain_text("callback", timeout=10_000)
    await expect(sarah.locator("article.offer")).to_have_count(1, timeout=20_000)
    await expect(panel).to_have_count(0)
    # The card says what to do: a call, and to which number.
    await expect(sarah.locator("article.offer .badge.follow-up")).to_have_text("Callback due: call +1-555-123-4567")

    await sarah.reload()
    await expect(sarah.locator("#stream-state")).to_contain_text("Live")
    await asyncio.sleep(1.5)  # the stream has replayed its events
    await expect(messages).not_to_contain_text("failed")
    assert outside == []


async def test_the_transfer_view_follows_other_tabs_and_the_prospect(stack, browser, acme_context):
    """One rep in two tabs: what one does, the other shows; and the prospect leaving mid-conversation is told."""
    sarah_key = stack.rep("sarah", name="Sarah Chen")
    outside: list[str] = []
    first = await _page(stack, browser, outside)
    second = await first.context.new_page()  # the same browser: a second tab
    await _sign_in(first, stack, sarah_key, "Sarah Chen")
    await _sign_in(second, stack, sarah_key, "Sarah Chen")
    await _bot(stack, *_start(acme_context, "xfer_tabs", "sarah"))
    await first.locator("article.offer").get_by_role("button", name="Accept").click(timeout=15_000)
    here, there = first.locator("article.transfer"), second.locator("article.transfer")
    await expect(there.locator(".status")).to_contain_text("waiting for you to take over")

    await here.get_by_role("button", name="Taking over").click()
    await expect(there.locator(".status")).to_contain_text("you are talking to the prospect", timeout=10_000)
    await expect(there.get_by_role("button", name="Taking over")).to_have_count(0)
    await expect(there.get_by_role("button", name="Demo booked")).to_be_visible()

    await _bot(stack, ("/v1/transfers/xfer_tabs/prospect", {"action": "left"}))
    for panel in (here, there):
        await expect(panel.locator(".news")).to_have_text("The prospect has left the conversation.", timeout=10_000)
        await expect(panel.locator(".status")).to_contain_text("the prospect has left")

    await here.get_by_role("button", name="Lost").click()
    await expect(there.get_by_role("button", name="Send feedback")).to_be_visible()
    await expect(there.get_by_role("button", name="Lost")).to_have_count(0)
    assert outside == []


async def test_console_details(stack, browser, acme_context):
    """Focus after signing in, presence from the keyboard, the locale after signing out, notes shown once, and a
    slow answer shows that it is working."""
    mei_key = stack.rep("mei", name="Mei Lin", locale="zh-CN")
    outside: list[str] = []
    mei = await _page(stack, browser, outside)
    await _sign_in(mei, stack, mei_key, "Mei Lin")
    assert await mei.evaluate("document.activeElement.id") == "offers-heading"

    presence = mei.locator("#presence")
    await presence.locator("[data-presence=available]").focus()
    for key in ("ArrowRight", "ArrowDown", "ArrowDown", "ArrowLeft"):  # moving along the list commits nothing
        await mei.keyboard.press(key)
    await mei.keyboard.press("Tab")
    assert stack.services.reps.get("mei").presence == "available"
    await mei.keyboard.press("Enter")  # the Busy button
    await expect(presence.locator("[aria-pressed=true]")).to_have_text("忙碌")
    assert stack.services.reps.get("mei").presence == "busy"
    await presence.locator("[data-presence=available]").click()
    await expect(presence.locator("[aria-pressed=true]")).to_have_attribute("data-presence", "available")

    await _bot(stack, *_start(acme_context, "xfer_details", "mei"),
               ("/v1/transfers/xfer_details/prospect", {"action": "note", "note": "We also need SOC 2"}))
    card = mei.locator("article.offer")
    await expect(card).to_contain_text("SOC 2", timeout=15_000)

    async def slowly(route):
        await asyncio.sleep(1.5)
        await route.continue_()

    await mei.route("**/v1/transfers/xfer_details/rep", slowly)
    accept = card.get_by_role("button", name="接受")
    await accept.click()
    await expect(card.locator("button.accept")).to_have_text("处理中…")
    await expect(card.locator("button.accept")).to_be_disabled()
    panel = mei.locator("article.transfer")
    await expect(panel.locator(".summary")).to_contain_text("John Smith")
    await expect(panel.locator(".notes li")).to_have_count(1)
    await expect(panel.locator(".notes")).to_contain_text("SOC 2")
    await expect(panel.locator(".brief-grid")).not_to_contain_text("SOC 2")  # not again in the talking points

    await mei.get_by_role("button", name="退出登录").click()
    await expect(mei.locator("#sign-in h2")).to_have_text("Sign in")  # the next person's browser language
    assert await mei.evaluate("document.documentElement.lang") == "en"
    assert outside == []


def _hostile(context: dict, word: str) -> dict:
    """Every text a prospect or the bot controls, as one unbroken word (cut to what the API accepts); the transcript
    is set apart, as _start sets its own."""
    def long(limit: int = 300) -> str:
        return word[:limit]

    hostile = {**context, "transfer_reason": long(), "recommended_approach": long()}
    hostile["prospect"] = {**context["prospect"], "name": long(), "company": long(), "title": long(),
                           "email": f"{long(240)}@x.io", "phone": "+1555" + "0" * 30, "timezone": long(64)}
    hostile["summary"] = {**context["summary"], "entry_point": long(), "initial_question": long(),
                          "key_needs": [long()], "pain_points": [long()], "objections_raised": [long()]}
    hostile["qualification"] = {**context["qualification"], "company_size": long(), "use_case": long(),
                                "timeline": long(), "budget": long()}
    hostile["sentiment"] = {**context["sentiment"], "notes": long()}
    return hostile


async def test_long_unbroken_words_never_widen_the_console(stack, browser, acme_context):
    """A 300-character word in every field a prospect or the bot fills in: the page never scrolls sideways, on a
    375 px phone or a laptop, and Accept stays uncovered."""
    sarah_key, alex_key = stack.rep("sarah", name="Sarah Chen"), stack.rep("alex", name="Alex Kim")
    word = "https://example.com/" + "x" * 280
    outside: list[str] = []
    phone = await _page(stack, browser, outside, **{**PHONE, "viewport": {"width": 375, "height": 812}})
    laptop = await _page(stack, browser, outside, viewport={"width": 1280, "height": 900})
    await _sign_in(phone, stack, sarah_key, "Sarah Chen")
    await _sign_in(laptop, stack, alex_key, "Alex Kim")
    fits = "document.documentElement.scrollWidth <= window.innerWidth"

    for page, rep_id in ((phone, "sarah"), (laptop, "alex")):
        transfer_id = f"xfer_wide_{rep_id}"
        start = _start(_hostile(acme_context, word), transfer_id, rep_id)
        start[0][1]["bot"]["name"] = "A" * 80
        start[0][1]["context"]["conversation_transcript"] = f"Prospect: see {word}\nAva: {word}"
        await _bot(stack, *start, (f"/v1/transfers/{transfer_id}/prospect", {"action": "note", "note": word}))
        card = page.locator("article.offer")
        await expect(card.locator(".notes")).to_contain_text("xxxx", timeout=15_000)
        assert await page.evaluate(fits), await page.evaluate("document.documentElement.scrollWidth")
        accept = card.get_by_role("button", name="Accept")
        box = await accept.bounding_box()
        covering = await page.evaluate("([x, y]) => document.elementFromPoint(x, y)?.closest('button')?.textContent",
                                       [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
        assert covering == "Accept"
        await accept.click()
        panel = page.locator("article.transfer")
        await expect(panel.locator(".summary")).to_contain_text("xxxx")
        await panel.get_by_text("Full transcript", exact=True).click()
        await expect(panel.locator(".transcript pre")).to_contain_text("xxxx")
        assert await page.evaluate(fits), await page.evaluate("document.documentElement.scrollWidth")
    assert outside == []


async def test_a_scheduled_callback_is_listed_under_coming_up(stack, browser, acme_context):
    """The rep books a callback from the offer: Coming up lists it at once, in the browser's locale and time zone,
    with the day; it is there again after a reload."""
    sarah_key = stack.rep("sarah", name="Sarah Chen")
    outside: list[str] = []
    sarah = await _page(stack, browser, outside, locale="en-GB", timezone_id="Asia/Shanghai")
    await _sign_in(sarah, stack, sarah_key, "Sarah Chen")
    coming_up = sarah.locator("#upcoming li")
    await expect(sarah.locator("#no-upcoming")).to_be_visible()
    await expect(coming_up).to_have_count(0)

    await _bot(stack, *_start(acme_context, "xfer_upcoming", "sarah"))
    card = sarah.locator("article.offer")
    callback = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=2)).replace(hour=10, minute=30, second=0,
                                                                                      microsecond=0)
    await card.get_by_label("Call back at").fill(callback.strftime("%Y-%m-%dT%H:%M"), timeout=15_000)
    await card.get_by_role("button", name="Schedule callback").click()
    await expect(coming_up).to_have_count(1)
    item = coming_up.first
    await expect(item).to_contain_text("John Smith @ Acme Corp")
    await expect(item.locator(".badge")).to_have_text("Callback")
    when = item.locator("time")
    await expect(when).to_contain_text(f"{callback:%a} {callback.day} {callback:%b}")  # the day, en-GB
    await expect(when).to_contain_text("10:30")  # the browser's time zone
    assert datetime.fromisoformat(await when.get_attribute("datetime")) == callback
    await expect(sarah.locator("#no-upcoming")).to_be_hidden()

    await sarah.reload()
    await expect(coming_up).to_have_count(1)
    await expect(coming_up.first).to_contain_text("John Smith @ Acme Corp")

    # A follow-up that ends with no news to the rep (here its task closed behind the console's back) leaves the list
    # when the rep looks at the tab again.
    calendar = stack.services.integrations.calendar
    [task] = calendar.tasks_for("sarah")
    calendar.close(task.key, cancelled=True, now=datetime.now(UTC))
    await sarah.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    await expect(coming_up).to_have_count(0)
    await expect(sarah.locator("#no-upcoming")).to_be_visible()
    assert outside == []
