"""The dashboard in a real browser: Debian's headless chromium, driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.web.dashboard_harness import FLAKY, GREET, dashboard, hello, settle

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    # CI (.ci/run installs chromium) never skips: a missing browser fails there.
    pytest.mark.skipif(
        shutil.which("chromium") is None and not os.environ.get("CI"),
        reason="Debian's chromium is not installed (apt-get install chromium; .ci/run does)",
    ),
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Yield headless chromium (never a downloaded build: the system's)."""
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        await launched.close()


async def _page(browser: Browser, errors: list[str]) -> Page:
    page = await browser.new_page()
    page.set_default_timeout(5_000)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


async def test_pages_filters_rerun_and_live_updates(browser: Browser, redis_url: str) -> None:
    async with dashboard(redis_url) as (run, _):
        await run.service.runtime.send([hello(1, pr=1), hello(2, pr=2)])
        await settle(run)
        errors: list[str] = []
        page = await _page(browser, errors)

        # Every page loads, under its own heading, with no script error (CSP included).
        await page.goto(f"{run.base}/ui")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Runs")
        await expect(page.locator("table.runs tbody tr")).to_have_count(4)
        await page.get_by_role("link", name="Events").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Events")
        await expect(page.locator("tr[data-event='hello-1']")).to_contain_text("queued")
        await page.locator("tr[data-event='hello-2']").get_by_role("link", name="o/r#2").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Pull request o/r#2")
        await expect(page.locator("table.runs tbody tr")).to_have_count(2)

        # Filter the runs: failed ones of one PR.
        await page.goto(f"{run.base}/ui")
        await page.get_by_label("Status").select_option("failed")
        await page.get_by_label("PR").fill("o/r#1")
        await page.get_by_role("button", name="Filter").click()
        rows = page.locator("table.runs tbody tr")
        await expect(rows).to_have_count(1)
        await expect(rows).to_contain_text(FLAKY)
        assert "status=failed" in page.url

        # Open the failed run, read its timeline, rerun it and see the new run.
        await rows.get_by_role("link").first.click()
        await expect(page.locator(".problem").first).to_contain_text("the first try always fails")
        await expect(page.locator("table.timeline")).to_contain_text("check")
        failed_url = page.url
        await page.get_by_role("button", name="Rerun").click()
        await expect(page.get_by_role("status")).to_contain_text("rerun of")
        assert page.url.split("?")[0] != failed_url
        new_id = page.url.split("/ui/runs/")[1].split("?")[0]
        await expect(page.locator(".badge.completed").first).to_be_visible()
        await page.goto(f"{run.base}/ui?function={FLAKY}")
        await expect(page.locator(f"tr[data-run='{new_id}']")).to_contain_text("completed")

        # Live: a run made while the page is open shows up without a reload.
        await page.goto(f"{run.base}/ui?function={GREET}")
        await expect(page.locator("table.runs tbody tr")).to_have_count(2)
        await run.service.runtime.send([hello(3, pr=3)])
        await expect(page.locator("table.runs tbody tr")).to_have_count(3, timeout=8_000)
        assert errors == []
