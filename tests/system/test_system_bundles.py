"""Threat feeds on the advisory channel, as deployed: a feed changed while the engines run changes
what a scan of the same image detects, with no restart.

The chart rendered with its defaults plus a short updater interval and a threat-feed source
(``updater.feedsSources``: a URL, served by the test as a feed provider would serve it). The updater
publishes the feeds as a content bundle on the shared volume and announces it on
``assay.advisories.v1``; the engines load it. A pod of the Debian image is scanned: the feed lists
nothing the image holds, so there is no MaliciousURL finding. Then the served feed gains a domain
named in the image's apt documentation (``http.us.debian.org``). On the updater's next pass a new
bundle is announced, both engine pods switch their analyzers to it without a restart, and a rescan
of the same digest (the operator's ``POST /v1/images/{digest}/rescan``) finds the listed URL.
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from schemas.events import ContentBundlePublished, FindingEvent
from schemas.topics import Topics
from tests.harness.fake_kube import FakeKube
from tests.pipeline.harness import read_topic
from tests.system.cluster import pod
from tests.system.endpoints import Endpoints
from tests.system.kubelet import Kubelet, running_fleet
from tests.system.scenario import api_call, counts, registry_digest, wait_for_images
from tests.system.tls_registry import TlsRegistry
from tests.system.workloads import rendered_workloads

pytestmark = [pytest.mark.pipeline, pytest.mark.realworld, pytest.mark.timeout(900)]

INTERVAL_S = 15
LISTED = "http.us.debian.org"  # named in one file of the Debian fixture: apt's example configuration


async def _until(limit_s: float, what: str, check: Callable[[], Awaitable[bool]]) -> None:
    deadline = time.monotonic() + limit_s
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(1.0)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def _serving(directory: Path) -> Iterator[str]:
    """An HTTP server for ``directory`` on loopback (a feed provider); its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _write(path: Path, text: str) -> None:
    staged = path.with_name(f".{path.name}.new")
    staged.write_text(text)
    staged.replace(path)  # as a mirror replaces a feed: atomically


def _findings_of(endpoints: Endpoints, digest: str) -> Callable[[], Awaitable[list[FindingEvent]]]:
    async def findings() -> list[FindingEvent]:
        events = await read_topic(endpoints.kafka_bootstrap, Topics.FINDINGS, quiet_s=0.5)
        return [e for _, e in events if isinstance(e, FindingEvent) and e.digest == digest]

    return findings


def _engines_on(fleet: Kubelet, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:  # every engine pod has switched to ``count`` feeds bundles
        return all(
            fleet.log(p.name, "engine").count("content analyzers: now threat-feeds bundle") >= count
            for p in fleet.pods_of("assay-engine")
        )

    return check


async def test_a_feed_published_while_engines_run_changes_a_rescan_without_restart(
    registry: TlsRegistry, endpoints: Endpoints, kube: FakeKube, tmp_path_factory: pytest.TempPathFactory
) -> None:
    host = registry.host
    web = registry_digest(host, "shop/web:1.0")
    findings = _findings_of(endpoints, web)
    feeds = tmp_path_factory.mktemp("feeds")
    _write(feeds / "local.txt", "# the operator's own list\nevil.assay-fixture.invalid\n")
    with _serving(feeds) as base:
        source = f"{base}/local.txt"
        values = {"updater": {"intervalSeconds": INTERVAL_S, "feedsSources": [source]}}
        workloads = rendered_workloads(values, tmp_path_factory.mktemp("rendered"))
        async with running_fleet(Kubelet(endpoints, tmp_path_factory.mktemp("fleet")), workloads) as fleet:
            await _until(300, "the first feeds bundle in every engine pod", _engines_on(fleet, 1))
            kube.add_pod(pod("shop", "web-1", image=f"{host}/shop/web:1.0", digest=web, deployment="web"))
            await wait_for_images(endpoints.pg_dsn, fleet, 1)
            first = await findings()

            _write(feeds / "local.txt", f"# the operator's own list\nevil.assay-fixture.invalid\n{LISTED}\n")
            await _until(300, "the changed feeds bundle in every engine pod", _engines_on(fleet, 2))
            api = fleet.env("assay-api")["ASSAY_API_LISTEN"]
            status, body = await api_call(api, "POST", f"/v1/images/{web}/rescan")
            assert status == 202, body

            async def detected() -> bool:
                return any(e.finding.category == "MaliciousURL" for e in await findings())

            await _until(300, "the rescan's MaliciousURL findings", detected)
            restarts = [e for e in fleet.events if e.startswith("assay-engine")]
            updater_log = fleet.logs("assay-updater")
    events = await read_topic(endpoints.kafka_bootstrap, Topics.ADVISORIES, quiet_s=0.5)
    announced = [e for _, e in events if isinstance(e, ContentBundlePublished)]
    requested, _ = await counts(endpoints.kafka_bootstrap, fleet.shared("objects"))

    assert first, "the first scan's findings"
    assert not [e for e in first if e.finding.category in ("MaliciousURL", "MaliciousIP")]
    malicious = [e.finding for e in await findings() if e.finding.category == "MaliciousURL"]
    assert {f.path for f in malicious} == {"/usr/share/doc/apt/examples/configure-index"}
    assert all(LISTED in f.title for f in malicious)
    assert [(e.kind, e.files, e.sources) for e in announced] == [("threat-feeds", 1, [source])] * 2
    assert updater_log.count("announced threat-feeds bundle") == 2
    assert requested[web] >= 2  # scanned again on request, by the same engines
    assert restarts == []  # the engines switched their analyzers without a restart
