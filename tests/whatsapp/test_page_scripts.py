"""The page observer's report timing, in real headless Chromium with Playwright's fake clock (no sleeps, no timing).

A tiny page with message rows stands in for WhatsApp Web (the observer only needs the profile's selectors); the
page's clock is paused, so which report a row arrives in depends only on how far the test moves the clock.
"""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import Page, Route

from app.whatsapp.page_scripts import REPORT_BINDING, REPORT_GAP_MS, observer_script
from app.whatsapp.profile import Profile
from tests.support.whatsapp_fixtures import WAIT, BrowserRunner

PAGE_URL = "http://parley.test/"
PAGE = '<div id="main"><div class="rows"><div role="row"><div data-id="first"></div></div></div></div>'
ADD_ROW = """(id) => {
  const row = document.createElement('div');
  row.setAttribute('role', 'row');
  row.innerHTML = `<div data-id="${id}"></div>`;
  document.querySelector('#main .rows').append(row);
}"""


class Reports:
    """What the observer sent to Python, one list of message ids per report."""

    def __init__(self) -> None:
        self.ids: list[list[str]] = []
        self._changed = asyncio.Event()

    async def on_report(self, _source: Any, snap: dict[str, Any]) -> None:
        self.ids.append([str(m["id"]) for m in snap.get("messages") or []])
        self._changed.set()

    async def wait_for(self, wanted: str) -> list[str]:
        """The report that carries the row ``wanted`` (WAIT seconds at most)."""
        async with asyncio.timeout(WAIT):
            while True:
                for ids in self.ids:
                    if wanted in ids:
                        return ids
                self._changed.clear()
                await self._changed.wait()


def test_first_change_after_a_quiet_spell_is_reported_at_once_then_throttled(
    browser_runner: BrowserRunner, profile: Profile
) -> None:
    async def scenario(page: Page) -> None:
        reports = Reports()

        async def serve(route: Route) -> None:
            await route.fulfill(status=200, content_type="text/html", body=PAGE)

        await page.route(PAGE_URL, serve)
        await page.expose_binding(REPORT_BINDING, reports.on_report)
        await page.add_init_script(observer_script(profile))
        await page.clock.install()
        await page.goto(PAGE_URL)
        await reports.wait_for("first")
        await page.clock.pause_at(await page.evaluate("() => Date.now()") + 10_000)  # quiet for a while, then frozen

        # One new row after a quiet spell: reported without waiting out the gap (1 ms of page time is enough).
        await page.evaluate(ADD_ROW, "single")
        await page.clock.run_for(1)
        assert await reports.wait_for("single") == ["single"]

        # Rows that keep coming right after a report are gathered into the next one, a gap after the last report.
        await page.evaluate(ADD_ROW, "burst-1")
        await page.clock.run_for(1)
        await page.evaluate(ADD_ROW, "burst-2")
        await page.clock.run_for(REPORT_GAP_MS)
        assert await reports.wait_for("burst-1") == ["burst-1", "burst-2"]

    browser_runner.run(scenario)
