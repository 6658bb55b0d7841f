"""The OpenAPI docs render with no internet: every script and style comes from the app itself."""


async def test_the_api_docs_render_offline(stack, browser):
    page = await browser.new_page()
    outside = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith(stack.url) else None)
    await page.goto(f"{stack.url}/docs")
    await page.get_by_text("/v1/transfers/{transfer_id}/prospect").wait_for(timeout=15_000)
    assert outside == []
