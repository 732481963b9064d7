"""The console in Debian's Chromium, driven by Playwright, against ``assay service api`` as its own process.

Chromium is ``/usr/bin/chromium`` from Debian (``.ci/install-tools.sh`` installs it); Playwright
never downloads a browser. Missing Chromium skips locally and fails in CI. Every page visited is
screenshotted under the test's tmp dir and copied to ``$ASSAY_ARTIFACTS/console`` when that is set.
Every test also checks the browser reported no Content-Security-Policy violation and no script error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

from services.common.store.queries import severity_rank
from tests.console.conftest import keep_artifact
from tests.console.seed import LAYERS, XSS, A, B, console_findings
from tests.harness.requirements import require

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _need_chromium() -> None:
    require(CHROMIUM.is_file(), f"no Chromium at {CHROMIUM}: run .ci/install-tools.sh (Debian's chromium)")


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    _need_chromium()
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


class Tab:
    """A browser page on the console, with the problems the browser reported and a screenshot helper."""

    def __init__(self, page: Page, base: str, shots: Path) -> None:
        self.page, self.base, self.shots = page, base, shots
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("dialog", self._dialog)

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")

    async def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        await dialog.dismiss()

    async def goto(self, path: str) -> None:
        response = await self.page.goto(self.base + path)
        assert response is not None
        assert response.status == 200, path

    async def shot(self, name: str) -> None:
        path = self.shots / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0
        keep_artifact(path)

    async def rows(self) -> list[str]:
        found = await self.page.locator("tr[data-finding]").evaluate_all(
            "rows => rows.map(r => r.dataset.finding)"
        )
        return [str(x) for x in found]


@pytest.fixture
async def tab(browser: Browser, api_process: str, shots: Path) -> AsyncIterator[Tab]:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        t = Tab(await context.new_page(), api_process, shots)
        yield t
        assert t.problems == []  # no CSP violation, no script error
        assert t.dialogs == []  # no injected script ever ran
    finally:
        await context.close()


async def test_filter_findings_by_severity_and_environment(tab: Tab) -> None:
    seeded = [f for items in console_findings().values() for f in items]
    await tab.goto("/console/findings")
    assert len(await tab.rows()) == len(seeded)
    async with tab.page.expect_navigation():
        await tab.page.select_option("#f-severity", "HIGH")  # console.js applies it at once
    assert "severity=HIGH" in tab.page.url
    high = sorted(f.finding_id for f in seeded if severity_rank(f.severity) <= 1)
    assert sorted(await tab.rows()) == high  # every CRITICAL and HIGH finding of every image
    await tab.page.fill("#f-environment", "cluster:prod-us")
    async with tab.page.expect_navigation():
        await tab.page.click("#apply")
    assert sorted(await tab.rows()) == ["b-000", "b-001", "b-005"]
    assert await tab.page.locator('#counts [data-severity="HIGH"] .n').inner_text() == "2"
    assert await tab.page.locator('#counts [data-severity="CRITICAL"] .n').inner_text() == "1"
    await tab.shot("findings-filtered")


async def test_search_then_open_a_finding_by_its_row(tab: Tab) -> None:
    await tab.goto("/console/findings")
    await tab.page.keyboard.press("/")  # focuses the search box
    await tab.page.keyboard.type("openssl")
    async with tab.page.expect_navigation():
        await tab.page.keyboard.press("Enter")
    assert sorted(await tab.rows()) == [f"b-{n:03d}" for n in range(6)]
    await tab.shot("findings-search")
    async with tab.page.expect_navigation():
        await tab.page.click('tr[data-finding="b-000"] td:nth-child(3)')  # the title cell, not the link
    assert tab.page.url.endswith("/console/findings/b-000")
    assert await tab.page.locator("#finding-title").inner_text() == "CVE-2023-2000"
    await tab.shot("finding-b-000")


async def test_a_finding_shows_its_suppression_and_hostile_text_stays_text(tab: Tab) -> None:
    await tab.goto("/console/findings?q=CVE-2024-9999")
    async with tab.page.expect_navigation():
        await tab.page.click("a.finding-link")
    suppression = await tab.page.locator("#suppression").inner_text()
    assert "not reachable: the parser is never called (ticket SEC-12)" in suppression
    assert await tab.page.locator("#kev").inner_text() == "yes"
    await tab.shot("finding-suppressed")
    await tab.goto("/console/findings/a-xss")
    assert await tab.page.locator("#finding-title").inner_text() == XSS
    await tab.shot("finding-hostile")


async def test_images_show_status_and_an_image_its_layers(tab: Tab) -> None:
    await tab.goto("/console/images")
    failed = await tab.page.locator(f'tr[data-digest="{B}"] td.status').inner_text()
    assert failed.startswith("Failed")
    assert "unexpected end of gzip stream" in failed
    await tab.shot("images")
    async with tab.page.expect_navigation():
        await tab.page.click(f'tr[data-digest="{A}"] a.image-link')
    assert await tab.page.locator("#status").inner_text() == "Scanned"
    commands = await tab.page.locator("#layers code.cmd").all_inner_texts()
    assert commands == [layer.created_by for layer in LAYERS]  # verbatim, whitespace kept
    await tab.shot("image-layers")
