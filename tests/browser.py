"""Debian's chromium for the browser tests (never a browser download), driven by Playwright."""

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

# Screenshots the browser tests save for a person to look at.
ARTIFACTS = Path(__file__).resolve().parent / "e2e" / "artifacts"
# Without the background-networking flags chromium keeps calling out, and the closed network refuses it.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@asynccontextmanager
async def debian_chromium() -> AsyncIterator[Browser]:
    """The system's chromium with a fresh profile; fails under CI and skips elsewhere when missing."""
    executable = shutil.which("chromium")
    if executable is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is missing: `make test` should have installed it")
        pytest.skip(reason="Debian's chromium is not installed (`make test` installs it with apt-get)")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def wait_until(page, expression: str, timeout: float = 15) -> None:
    """Until a JavaScript expression is true in the page, polled with page.evaluate.
    Playwright's wait_for_function builds its predicate with `new Function` inside the page,
    which a page whose CSP has no 'unsafe-eval' (the widget's host pages) refuses now and then,
    as a pageerror; evaluate goes through the DevTools protocol, which the page's CSP does not
    govern."""
    deadline = time.monotonic() + timeout
    while not await page.evaluate(f"() => Boolean({expression})"):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {expression}")
        await asyncio.sleep(0.05)
