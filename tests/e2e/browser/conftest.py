"""Headless Chromium (Debian's package) driven by Playwright; every page is served by the app on loopback."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright

DOCS = Path(__file__).resolve().parents[3] / "docs"


@pytest.fixture
async def browser():
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"])
        yield launched
        await launched.close()


async def screenshot(page: Page, name: str, **options) -> None:
    """Render the page to PNG; it replaces the one in docs/ only with WT_UPDATE_SCREENSHOTS=1, so a test
    run leaves the working tree clean."""
    target = DOCS if os.environ.get("WT_UPDATE_SCREENSHOTS") else Path(tempfile.gettempdir())
    await page.screenshot(path=target / name, **options)
