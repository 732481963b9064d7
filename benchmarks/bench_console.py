"""The console's Findings page with 10,000 findings: server time, and browser load when Chromium is here.

Starts an embedded PostgreSQL (or uses ``ASSAY_PG_DSN``: then give a database nobody else uses),
stores ``--findings`` findings (default 10,000) over 20 images sighted in four environments the
way the policy does (``Lifecycle.apply_evaluation``), mounts the API app with the console on
127.0.0.1, and measures, ``--repeat`` times each (median, min-max):

- ``read``: ``Reads.findings`` for the whole selection (the query the page runs);
- ``page``: ``GET /console/findings?per_page=N`` over HTTP, first byte to last (query + sort + render);
- in Debian's Chromium (``/usr/bin/chromium``, via Playwright), when it is installed and
  ``--no-browser`` is not given, each from the navigation's start (the Navigation Timing API):
  ``b.server`` the last byte of the page received, ``b.fcp`` the first contentful paint, ``b.load``
  the ``load`` event (the whole page parsed, styles and script loaded), and ``b.painted`` the
  first frame after it (two ``requestAnimationFrame`` callbacks): the page on screen, usable;
  ``b.cpu`` the CPU time of the page's renderer main thread until then (CDP ``Performance.getMetrics``
  ``ThreadTime``; each load is a new document). With ``page.cpu`` (the server's handler, in this
  process) it says what the page costs when the machine is shared and wall times are queueing.

Figures are printed, never asserted; the issue's target is a page of 10,000 findings in under a second.

    .venv/bin/python benchmarks/bench_console.py [--findings 10000] [--repeat 5] [--no-browser]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

_REPO = Path(__file__).resolve().parent.parent
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from schemas import Finding  # noqa: E402
from schemas.vocabulary import SEVERITIES  # noqa: E402
from services.api.app import make_app  # noqa: E402
from services.api.auth.access import Access  # noqa: E402
from services.api.auth.tokens import Tokens  # noqa: E402
from services.api.settings import AuthConfig  # noqa: E402
from services.api.store import FindingFilter, Reads  # noqa: E402
from services.common.store.postgres import Store  # noqa: E402
from services.dedupe.store.claims import Claims, Sighting  # noqa: E402
from services.policy.store import Lifecycle  # noqa: E402
from tests.harness.postgres import postgres_server  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
IMAGES = 20
ENVIRONMENTS = ("cluster:prod-eu", "cluster:prod-us", "cluster:dev", "registry:registry.example")


async def _seed(store: Store, total: int) -> None:
    per_image = -(-total // IMAGES)
    made = 0
    for i in range(IMAGES):
        digest = f"sha256:{i:064x}"
        env = ENVIRONMENTS[i % len(ENVIRONMENTS)]
        sighting = Sighting(
            digest=digest, image_ref=f"registry.example/team/app{i}@{digest}", environment=env,
            repository=f"team/app{i}", tag="1.0", ou="payments",
        )  # fmt: skip
        await Claims(store.pool).claim([sighting], analysis_version="bench", max_image_bytes=0)
        await store.set_status(digest, "scanned", scan_id=f"scan-{i}")
        count = min(per_image, total - made)
        findings = [
            Finding(
                finding_id=f"{i:02d}-{n:05d}",
                category="CVE",
                id=f"CVE-2025-{n:05d}",
                severity=SEVERITIES[n % len(SEVERITIES)],
                title=f"heap overflow in lib{n % 97} when parsing <input> of {n} bytes",
                description="A long enough description to be realistic. " * 4,
                package_name=f"lib{n % 97}",
                purl=f"pkg:deb/debian/lib{n % 97}@1.{n % 13}",
                installed_version=f"1.{n % 13}",
                fixed_version=f"1.{n % 13}.1",
                environment=env,
            )
            for n in range(count)
        ]
        await Lifecycle(store.pool).apply_evaluation(
            evaluation_id=f"bench:{digest}", digest=digest, ruleset="default", findings=findings
        )
        made += count


async def _timed(
    repeat: int, run: Callable[[], Awaitable[object]], cpu: list[float] | None = None
) -> list[float]:
    """Wall seconds of each of ``repeat`` runs; this process's CPU seconds of each appended to ``cpu``."""
    out = []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        await run()
        out.append(time.perf_counter() - start)
        if cpu is not None:
            cpu.append(time.process_time() - start_cpu)
    return out


def _line(name: str, samples: list[float]) -> str:
    return (
        f"{name:<9} median {statistics.median(samples) * 1000:8.1f} ms"
        f"   (min {min(samples) * 1000:.1f}, max {max(samples) * 1000:.1f}, n={len(samples)})"
    )


# Navigation Timing after the load event and the next frame: milliseconds since navigation start.
_TIMING = """() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  done({server: nav.responseEnd, fcp: fcp ? fcp.startTime : NaN, load: nav.loadEventEnd,
        painted: performance.now()});
})))"""


async def _browser_load(url: str, token: str, repeat: int) -> dict[str, list[float]]:
    """Each ``_TIMING`` figure of ``repeat`` loads of ``url`` (after one warm-up), in seconds."""
    from playwright.async_api import async_playwright

    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip
    out: dict[str, list[float]] = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            context = await browser.new_context(
                viewport={"width": 1400, "height": 900},
                extra_http_headers={"Authorization": f"Bearer {token}"},
            )
            page = await context.new_page()
            cdp = await context.new_cdp_session(page)
            await cdp.send("Performance.enable")
            await page.goto(url, wait_until="load")  # warm: static files cached, as for a person
            for _ in range(repeat):
                await page.goto("about:blank")
                await page.goto(url, wait_until="load")
                for name, ms in (await page.evaluate(_TIMING)).items():
                    out.setdefault(name, []).append(ms / 1000)
                metrics = (await cdp.send("Performance.getMetrics"))["metrics"]
                out.setdefault("cpu", []).extend(m["value"] for m in metrics if m["name"] == "ThreadTime")
            return out
        finally:
            await browser.close()


async def _run(dsn: str, total: int, repeat: int, browser: bool) -> None:
    store = await Store.connect(dsn)
    try:
        start = time.perf_counter()
        await _seed(store, total)
        print(f"seeded {total} findings over {IMAGES} images in {time.perf_counter() - start:.1f} s")
        token, _ = await Tokens(store.pool).create(f"bench-{time.time_ns()}", "viewer")
        access = Access(AuthConfig(rate_burst=100_000), store.pool)
        server = TestServer(make_app(Reads(store.pool), access), host="127.0.0.1")
        await server.start_server()
        url = str(server.make_url(f"/console/findings?per_page={total}"))
        try:
            flt = FindingFilter(limit=total + 1)
            print(_line("read", await _timed(repeat, lambda: Reads(store.pool).findings(flt))))
            async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:

                async def fetch() -> int:
                    async with http.get(url) as r:
                        body = await r.read()
                        assert r.status == 200, body[:500]
                        return len(body)

                size = await fetch()
                cpu: list[float] = []
                print(_line("page", await _timed(repeat, fetch, cpu)) + f"   {size / 1e6:.1f} MB of HTML")
                print(_line("page.cpu", cpu) + "   (this process: the server's handler and the client)")
            if browser:
                for name, samples in (await _browser_load(url, token, repeat)).items():
                    print(_line(f"b.{name}", samples))
        finally:
            await server.close()
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--findings", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true", help="server time only")
    args = parser.parse_args()
    browser = not args.no_browser and CHROMIUM.is_file()
    if not args.no_browser and not browser:
        print(f"browser   skipped: no Chromium at {CHROMIUM} (.ci/install-tools.sh installs Debian's)")
    with (
        tempfile.TemporaryDirectory(prefix="bench-console-") as tmp,
        postgres_server(Path(tmp) / "pg") as dsn,
    ):
        asyncio.run(_run(dsn, args.findings, args.repeat, browser))


if __name__ == "__main__":
    main()
