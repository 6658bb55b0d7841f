"""The Temporal UI that `up` starts: transfers are unreadable there, until an admin signs this browser in to the
codec server and turns the UI's codec setting on; then the UI shows them decrypted."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.async_api import expect

from tests.workers.test_up_and_demo import running_up


@pytest.mark.e2e
@pytest.mark.timeout(180)
async def test_an_admin_signed_in_to_the_codec_reads_transfers_in_the_temporal_ui(browser, tmp_path: Path):
    with running_up(tmp_path) as (_, ports, _):
        api, ui = f"http://127.0.0.1:{ports['api']}", f"http://127.0.0.1:{ports['ui']}"
        body = {"routing": {"team": "smb"}, "context": {"prospect": {"name": "Kim Park", "company": "Tiny Co"}}}
        started = httpx.post(f"{api}/v1/transfers", json=body, headers={"Authorization": "Bearer wt_bot_demo"},
                             timeout=30)
        assert started.status_code == 201, started.text
        transfer = f"{ui}/namespaces/default/workflows/{started.json()['transfer_id']}"
        page = await browser.new_page()

        await page.goto(transfer)
        refused = page.locator("#content").get_by_text("Codec Server could not connect")
        await expect(refused).to_be_visible(timeout=30_000)
        assert "Kim Park" not in await page.inner_text("body")

        await page.goto(f"{api}/codec")
        await page.fill("#key", "wt_admin_demo")
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.locator("#status")).to_contain_text("Signed in")
        await page.goto(ui)
        # What the UI's codec settings dialog stores when one keeps this endpoint and turns on "include
        # cross-origin credentials" for this browser.
        await page.evaluate("""endpoint => {
            localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
            localStorage.setItem('endpoint', JSON.stringify(endpoint));
            localStorage.setItem('includeCredentials', 'true');
        }""", f"{api}/codec")
        await page.goto(transfer)
        await expect(page.get_by_text("Kim Park").first).to_be_visible(timeout=30_000)
