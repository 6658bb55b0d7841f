"""Headless Chromium (Debian's package) driven by Playwright; every page is served by the app on loopback."""

from __future__ import annotations

import shutil

import pytest
from playwright.async_api import async_playwright


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
