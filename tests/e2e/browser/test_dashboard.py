"""The ops dashboard in headless Chromium: real transfers, drawn by the vendored Chart.js, nothing from outside."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.e2e.browser.conftest import screenshot
from tests.e2e.conftest import ADMIN_KEY
from tests.e2e.test_metrics_api import bot_key, drive_transfers, start_body, transfer_id

CHARTS = ("chart-rates", "chart-volume", "chart-branches", "chart-categories", "chart-items", "chart-missing")
# How many pixels of each chart's canvas are painted (not transparent).
PAINTED = """ids => ids.map(id => {
  const canvas = document.getElementById(id);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) painted++;
  return painted;
})"""


async def _open(browser, stack, **device) -> tuple[Page, list[str], list[str]]:
    page = await (await browser.new_context(**device)).new_page()
    outside, errors = [], []
    page.on("request", lambda request: outside.append(request.url) if not request.url.startswith(stack.url) else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    # A refused key logs its 401 as a failed load; anything else (a CSP violation, a script error) is a fault.
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text else None)
    await page.goto(f"{stack.url}/dashboard")
    return page, outside, errors


async def _queue_one(stack, acme_context: dict) -> None:
    """Sarah is busy, so the next transfer waits in the enterprise queue."""
    async with stack.http(ADMIN_KEY) as admin, stack.http(await bot_key(stack)) as bot:
        assert (await admin.put("/v1/reps/sarah/presence", json={"status": "busy"})).status_code == 200
        later = transfer_id(stack, "later")
        assert (await bot.post("/v1/transfers", json=start_body(acme_context, later, "positive"))).status_code == 201
        moved = await bot.post(f"/v1/transfers/{later}/prospect", json={"action": "proceed"})
        assert moved.json()["status"] == "queued", moved.text


async def test_dashboard_charts_real_transfers_offline(stack, browser, acme_context):
    await drive_transfers(stack, acme_context)
    await _queue_one(stack, acme_context)
    page, outside, errors = await _open(browser, stack, viewport={"width": 1280, "height": 900})

    await page.keyboard.press("Tab")  # keyboard only: past the skip link into the key field
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "key"
    await page.keyboard.type("wt_not_a_key")
    await page.keyboard.press("Enter")
    await expect(page.locator("#status")).to_have_text("Unknown or revoked API key.")
    assert await page.evaluate("document.activeElement.id") == "key"  # back in the field for another try
    await page.keyboard.type(ADMIN_KEY)
    await page.keyboard.press("Enter")

    await expect(page.locator("#kpi-completion .value")).to_have_text("33%")
    await expect(page.locator("#kpi-conversion .value")).to_have_text("100%")
    await expect(page.locator("#kpi-csat .value")).to_have_text("5 / 5")
    # the offers and how they ended: here one offer, accepted (the queued transfer was never offered)
    for end, count in (("made", 1), ("accepted", 1), ("expired", 0), ("declined", 0), ("deferred", 0),
                       ("not_taken_over", 0), ("callback", 0), ("withdrawn", 0)):
        await expect(page.locator(f"#offers-{end} .value")).to_have_text(str(count))
    days = await page.evaluate("Chart.getChart('chart-volume').data.labels")  # "Last 7 days": 7 UTC days, today last
    assert len(days) == 7 and all(day.endswith("(UTC)") for day in days), days
    assert all(painted > 500 for painted in await page.evaluate(PAINTED, list(CHARTS)))
    assert await page.evaluate("Chart.getChart('chart-branches').data.labels") == ["immediate", "abandoned",
                                                                                  "cancelled", "queued"]
    assert await page.evaluate("Chart.getChart('chart-missing').data.labels") == ["budget"]
    await expect(page.locator("#missing-table tbody")).to_contain_text("budget")
    await expect(page.locator("#improvements")).to_contain_text("Put the budget first")
    await expect(page.locator("#queue caption")).to_have_text("enterprise: 1 waiting")
    await expect(page.locator("#queue tbody")).to_contain_text("John Smith @ Acme")
    assert await page.evaluate("sessionStorage.getItem('wt.adminKey')") == ADMIN_KEY
    await screenshot(page, "dashboard.png", full_page=True)

    phone, phone_outside, phone_errors = await _open(
        browser, stack, viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True)
    await phone.get_by_label("Admin key").fill(ADMIN_KEY)
    await phone.get_by_role("button", name="Show figures").click()
    await expect(phone.locator("#kpi-completion .value")).to_have_text("33%")
    assert await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scroll
    await screenshot(phone, "dashboard-phone.png", full_page=True)

    assert outside == [] and phone_outside == []
    assert errors == [] and phone_errors == []


async def test_long_unbroken_words_never_widen_the_dashboard(stack, browser, acme_context):
    """A prospect named with a 300-character word waits in the queue: a 375 px phone still has no sideways scroll."""
    word = "https://example.com/" + "x" * 280
    hostile = {**acme_context, "prospect": {**acme_context["prospect"], "name": word, "company": word}}
    stack.rep("sarah", name="Sarah Chen")
    await _queue_one(stack, hostile)
    phone, outside, errors = await _open(browser, stack, viewport={"width": 375, "height": 812},
                                         device_scale_factor=2, is_mobile=True, has_touch=True)
    await phone.get_by_label("Admin key").fill(ADMIN_KEY)
    await phone.get_by_role("button", name="Show figures").click()
    await expect(phone.locator("#queue tbody")).to_contain_text("xxxx")
    assert await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), \
        await phone.evaluate("document.documentElement.scrollWidth")
    assert outside == [] and errors == []
