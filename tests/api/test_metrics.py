"""Prometheus metrics: the metered bus counts scans, durations, findings; the API serves /metrics
(behind auth on its port, open on the metrics port) with latency by route and store gauges.
Parsed with prometheus-client's own text parser, as Prometheus would read them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from schemas import Finding
from schemas.codec import encode_event
from schemas.events import FindingEvent, ScanCompleted, ScanFailed, ScanRequested
from schemas.records import ImageInfo
from schemas.topics import Topics
from services.common.bus.memory import MemoryBus
from services.common.metered_bus import MeteredBus, failure_kind
from services.common.metrics import Metrics, serve_metrics
from tests.api.seed import Api
from tests.harness.registry import free_port


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = tuple(sorted((k, v) for k, v in s.labels.items() if k != "service"))
            out[(s.name, labels)] = s.value
    return out


def _get(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def _publish(bus: MeteredBus, topic: str, events: Iterable[object]) -> None:
    for event in events:
        await bus.publish(topic, "k", encode_event(event))  # type: ignore[arg-type]


async def test_the_metered_bus_counts_scans_durations_and_findings() -> None:
    metrics = Metrics("engine")
    bus = MeteredBus(MemoryBus(), metrics)
    await bus.start()
    requests = [
        ScanRequested(scan_id=f"s{n}", digest=f"sha256:{n}", image_ref="r", reason="requested")
        for n in (1, 2)
    ]
    await _publish(bus, Topics.SCAN_REQUESTS, requests)
    consumer = bus.consumer("engines", [Topics.SCAN_REQUESTS])
    await consumer.start()
    assert len(await consumer.fetch(max_records=10, timeout_s=1)) == 2
    await _publish(bus, Topics.DETECTIONS, [ScanCompleted(scan_id="s1", image=ImageInfo(ref="r"))])
    failed = ScanFailed(
        scan_id="s2", digest="sha256:2", image_ref="r", error="layer sha256:x: unexpected end of gzip stream"
    )
    await _publish(bus, Topics.DETECTIONS, [failed])
    finding = Finding(finding_id="f", category="CVE", id="CVE-1", severity="HIGH", title="t")
    await _publish(bus, Topics.FINDINGS, [FindingEvent(digest="d", image_ref="r", finding=finding)] * 3)
    got = _samples((await metrics.exposition()).decode())
    assert _get(got, "assay_scans_requested_total", reason="requested") == 2
    assert _get(got, "assay_records_consumed_total", topic=Topics.SCAN_REQUESTS) == 2
    assert _get(got, "assay_scans_completed_total") == 1
    assert _get(got, "assay_scans_failed_total", reason="corrupt") == 1
    assert _get(got, "assay_scan_duration_seconds_count") == 2  # both results had a start
    assert _get(got, "assay_findings_published_total", severity="HIGH", state="new") == 3
    assert _get(got, "assay_events_published_total", topic=Topics.FINDINGS, type="FindingEvent") == 3


def test_failure_reasons_fold_into_a_few_kinds() -> None:
    assert failure_kind("scan of x timed out after 1800 s") == "timeout"
    assert failure_kind("registry.example.com: manifest unknown (HTTP 404)") == "registry"
    assert failure_kind("the file count budget of 1000000 was exceeded") == "budget"
    assert failure_kind("something odd") == "other"


async def test_the_api_serves_metrics_behind_auth_and_on_the_open_metrics_port(api: Api) -> None:
    assert (await api.call("GET", "/metrics", role=None))[0] == 401
    assert (await api.call("GET", "/v1/images", role="viewer"))[0] == 200
    async with api.http.get(api.url + "/metrics") as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=")
        got = _samples(await r.text())
    assert _get(got, "assay_images", status="scanned") == 2
    assert _get(got, "assay_images", status="failed") == 1
    assert _get(got, "assay_advisory_data_age_seconds") == -1  # no advisory build recorded
    assert sum(v for (name, labels), v in got.items() if name == "assay_open_findings") > 0
    timed = [
        labels for (name, labels), _ in got.items() if name == "assay_api_request_duration_seconds_count"
    ]
    assert (("method", "GET"), ("route", "/v1/images"), ("status", "200")) in timed


async def test_serve_metrics_answers_without_credentials() -> None:
    metrics, stop = Metrics("dedupe"), asyncio.Event()
    listen = f"127.0.0.1:{free_port()}"
    task = asyncio.create_task(serve_metrics(metrics, listen, stop))
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(50):
                try:
                    async with http.get(f"http://{listen}/metrics") as r:
                        assert r.status == 200
                        assert "assay_scans_completed" in await r.text()
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("the metrics port never answered")
    finally:
        stop.set()
        await task
