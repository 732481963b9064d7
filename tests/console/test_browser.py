"""The console in Debian's Chromium, driven by Playwright, against ``assay service api`` as its own process.

Chromium is ``/usr/bin/chromium`` from Debian (``.ci/install-tools.sh`` installs it); Playwright
never downloads a browser. Missing Chromium skips locally and fails in CI. Every page visited is
screenshotted under the test's tmp dir and copied to ``$ASSAY_ARTIFACTS/console`` when that is set.
Every test also checks the browser reported no Content-Security-Policy violation and no script error.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

from schemas.vocabulary import severity_rank
from tests.console.conftest import ApiProcess, keep_artifact
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
        self.refusals: set[int] = set()  # HTTP statuses a test expects a page to answer with
        self.dialogs: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("dialog", self._dialog)

    def _console(self, message: Any) -> None:
        expected = (f"responded with a status of {n} " for n in self.refusals)
        if any(e in message.text for e in expected):
            return  # Chromium logs every 4xx page it loads; the test asked for this one
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

    async def sign_in(self, token: str) -> None:
        """Sign in through the login form, as a person pasting their token."""
        await self.goto("/console/login")
        await self.page.fill("#token", token)
        async with self.page.expect_navigation():
            await self.page.click("#sign-in")


@pytest.fixture
async def tab(browser: Browser, api_process: ApiProcess, shots: Path) -> AsyncIterator[Tab]:
    """A signed-out browser tab (its own cookies) on the console."""
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        t = Tab(await context.new_page(), api_process.url, shots)
        yield t
        assert t.problems == []  # no CSP violation, no script error
        assert t.dialogs == []  # no injected script ever ran
    finally:
        await context.close()


@pytest.fixture
async def viewer(tab: Tab, api_process: ApiProcess) -> Tab:
    """A tab signed in with a viewer's token."""
    await tab.sign_in(api_process.tokens["viewer"])
    return tab


async def test_filter_findings_by_severity_and_environment(viewer: Tab) -> None:
    seeded = [f for items in console_findings().values() for f in items]
    await viewer.goto("/console/findings")
    assert len(await viewer.rows()) == len(seeded)
    async with viewer.page.expect_navigation():
        await viewer.page.select_option("#f-severity", "HIGH")  # console.js applies it at once
    assert "severity=HIGH" in viewer.page.url
    high = sorted(f.finding_id for f in seeded if severity_rank(f.severity) <= 1)
    assert sorted(await viewer.rows()) == high  # every CRITICAL and HIGH finding of every image
    await viewer.page.fill("#f-environment", "cluster:prod-us")
    async with viewer.page.expect_navigation():
        await viewer.page.click("#apply")
    assert sorted(await viewer.rows()) == ["b-000", "b-001", "b-005"]
    assert await viewer.page.locator('#counts [data-severity="HIGH"] .n').inner_text() == "2"
    assert await viewer.page.locator('#counts [data-severity="CRITICAL"] .n').inner_text() == "1"
    await viewer.shot("findings-filtered")


_BOXES = "cells => cells.map(c => { const r = c.getBoundingClientRect(); return [r.left, r.width]; })"


async def test_findings_columns_line_up_with_the_header(viewer: Tab) -> None:
    """The rows live in their own tables (chunks the browser may skip): each column must still sit
    exactly under its heading."""
    await viewer.goto("/console/findings")
    heads = await viewer.page.locator("#findings thead th").evaluate_all(_BOXES)
    for row in ("tr[data-finding]:first-child", "tr[data-finding]:last-child"):
        cells = await viewer.page.locator(f"#finding-rows {row}").first.locator("td").evaluate_all(_BOXES)
        assert len(cells) == len(heads) == 8
        for (head_x, head_w), (cell_x, cell_w) in zip(heads, cells, strict=True):
            assert abs(head_x - cell_x) <= 1
            assert abs(head_w - cell_w) <= 1


async def test_search_then_open_a_finding_by_its_row(viewer: Tab) -> None:
    await viewer.goto("/console/findings")
    await viewer.page.keyboard.press("/")  # focuses the search box
    await viewer.page.keyboard.type("openssl")
    async with viewer.page.expect_navigation():
        await viewer.page.keyboard.press("Enter")
    assert sorted(await viewer.rows()) == [f"b-{n:03d}" for n in range(6)]
    await viewer.shot("findings-search")
    async with viewer.page.expect_navigation():
        await viewer.page.click('tr[data-finding="b-000"] td:nth-child(3)')  # the title cell, not the link
    assert viewer.page.url.endswith("/console/findings/b-000")
    assert await viewer.page.locator("#finding-title").inner_text() == "CVE-2023-2000"
    await viewer.shot("finding-b-000")


async def test_a_finding_shows_its_suppression_and_hostile_text_stays_text(viewer: Tab) -> None:
    await viewer.goto("/console/findings?q=CVE-2024-9999")
    async with viewer.page.expect_navigation():
        await viewer.page.click("tr[data-finding] td:nth-child(2) a")  # the finding id links to it
    suppression = await viewer.page.locator("#suppression").inner_text()
    assert "not reachable: the parser is never called (ticket SEC-12)" in suppression
    assert await viewer.page.locator("#kev").inner_text() == "yes"
    await viewer.shot("finding-suppressed")
    await viewer.goto("/console/findings/a-xss")
    assert await viewer.page.locator("#finding-title").inner_text() == XSS
    await viewer.shot("finding-hostile")


async def test_images_show_status_and_an_image_its_layers(viewer: Tab) -> None:
    await viewer.goto("/console/images")
    failed = await viewer.page.locator(f'tr[data-digest="{B}"] td.status').inner_text()
    assert failed.startswith("Failed")
    assert "unexpected end of gzip stream" in failed
    await viewer.shot("images")
    async with viewer.page.expect_navigation():
        await viewer.page.click(f'tr[data-digest="{A}"] a.image-link')
    assert await viewer.page.locator("#status").inner_text() == "Scanned"
    commands = await viewer.page.locator("#layers code.cmd").all_inner_texts()
    assert commands == [layer.created_by for layer in LAYERS]  # verbatim, whitespace kept
    await viewer.shot("image-layers")
    async with viewer.page.expect_download() as downloading:
        await viewer.page.click("#sbom-spdx")
    download = await downloading.value
    assert download.suggested_filename == f"{A.replace(':', '-')}.spdx.json"
    saved = await download.path()
    sbom = json.loads(await asyncio.to_thread(Path(saved).read_text))
    assert sbom["spdxVersion"] == "SPDX-2.3"


async def test_log_in_with_a_token_and_out_again(tab: Tab, api_process: ApiProcess) -> None:
    response = await tab.page.goto(tab.base + "/console/images")
    assert response is not None
    assert tab.page.url.startswith(tab.base + "/console/login?next=")  # sent to sign in first
    await tab.shot("login")
    tab.refusals.add(401)
    await tab.page.fill("#token", "assay_000000000000_" + "x" * 43)
    async with tab.page.expect_navigation():
        await tab.page.click("#sign-in")
    assert "Sign-in refused" in await tab.page.locator("#login-error").inner_text()
    await tab.page.fill("#token", api_process.tokens["operator"])
    async with tab.page.expect_navigation():
        await tab.page.click("#sign-in")
    assert tab.page.url == tab.base + "/console/images"  # back where it was going
    assert await tab.page.locator("#me").inner_text() == "token:test-operator (operator)"
    async with tab.page.expect_navigation():
        await tab.page.click("#sign-out")
    assert tab.page.url.startswith(tab.base + "/console/login")


async def test_a_viewer_has_no_rescan_action_and_the_route_refuses_it(viewer: Tab) -> None:
    await viewer.goto("/console/images")
    assert await viewer.page.locator("button.rescan-button").count() == 0
    await viewer.goto(f"/console/images/{A}")
    assert await viewer.page.locator("button.rescan-button").count() == 0
    csrf = await viewer.page.locator("#logout input[name=csrf]").get_attribute("value")
    answer = await viewer.page.request.post(
        viewer.base + f"/console/images/{A}/rescan", form={"csrf": csrf or ""}
    )
    assert answer.status == 403  # the session's own CSRF token, the wrong role
    await viewer.shot("image-as-viewer")


async def test_unlinking_a_registry_s_last_link_is_refused(tab: Tab, api_process: ApiProcess) -> None:
    await tab.sign_in(api_process.tokens["operator"])
    await tab.goto("/console/environments")
    tab.refusals.add(409)
    await tab.page.fill("#link-registry", "127.0.0.1:5000")
    await tab.page.fill("#link-cluster", "prod-eu")
    async with tab.page.expect_navigation():
        await tab.page.click("#link")
    assert "Linked 127.0.0.1:5000 to prod-eu." in await tab.page.locator("#done").inner_text()
    unlink = tab.page.locator('tr[data-registry="127.0.0.1:5000"] [data-cluster="prod-eu"] button.unlink')
    async with tab.page.expect_navigation():
        await unlink.click()
    refused = await tab.page.locator("#refused").inner_text()
    assert "Unlink refused" in refused
    assert "last link" in refused
    await tab.shot("environments-unlink-refused")


async def test_every_other_page_renders(tab: Tab, api_process: ApiProcess) -> None:
    await tab.sign_in(api_process.tokens["admin"])
    for name in ("rulesets", "alerts", "advisories", "audit", "environments"):
        await tab.goto(f"/console/{name}")
        await tab.shot(name)
    await tab.goto("/console/alerts")
    assert await tab.page.locator('tr[data-finding="d-000"]').count() == 1


async def test_z_request_a_rescan_and_watch_the_status_change(tab: Tab, api_process: ApiProcess) -> None:
    """Last in the module (it changes image A's status for the tests that share the API process)."""
    await tab.sign_in(api_process.tokens["operator"])
    await tab.goto("/console/images")
    row = tab.page.locator(f'tr[data-digest="{A}"]')
    assert (await row.locator("td.status").inner_text()).startswith("Scanned")
    assert await tab.page.locator(f'tr[data-digest="{B}"] button.rescan-button').count() == 1
    async with tab.page.expect_navigation():
        await row.locator("button.rescan-button").click()
    assert await tab.page.locator("#status").inner_text() == "Pending Scan"
    assert "Requested: scan" in await tab.page.locator("#rescan-requested").inner_text()
    await tab.shot("image-rescan-requested")
    await tab.goto("/console/images")
    assert (await tab.page.locator(f'tr[data-digest="{A}"] td.status').inner_text()).startswith(
        "Pending Scan"
    )
