"""Prometheus metrics, the same for every service: one registry per process, served on its own port.

Built on ``prometheus-client``, the Prometheus project's own library: it writes the text
exposition format exactly as Prometheus parses it, and its counters and histograms have the
semantics dashboards expect (``_total``, ``_bucket``/``le``, ``_created``). The registry is an
object made by the service's lifespan and handed down (``Metrics``), never the library's global
default registry; ``serve_metrics`` exposes it on ``ASSAY_METRICS_LISTEN`` (its own port, no
authentication: scrape it from inside the cluster, as ``clair`` and most exporters do).

What is measured, and where:
- the bus (``services/common/metered_bus.py``), for every service with no change to handlers:
  records consumed, consumer lag per topic and partition (read at scrape time), scans
  requested/completed/failed/skipped, scan duration and layer bytes in the engine, findings
  published by severity and state, alerts;
- dedupe hits (``services/dedupe/service.py``) and rematch duration (``services/policy/advisories.py``),
  counted through callbacks their entry modules take from the lifespan's ``Metrics``;
- the API (``services/api/metrics.py``): request latency by route, and store gauges read at
  scrape time (images by status, open findings by severity, advisory data age).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from services.common.serve import serve_app

__all__ = ["CONTENT_TYPE", "Metrics", "metrics_response", "serve_metrics"]

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST
# a scan takes seconds to many minutes; API requests milliseconds to seconds
_SCAN_BUCKETS: Final = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600)
_API_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

Refresh = Callable[[], Awaitable[None]]
log = logging.getLogger(__name__)


class Metrics:
    """The instruments of one process, in a registry of its own. ``service``: every series' label."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        self._refreshers: list[Refresh] = []
        counter, histogram, gauge = self._counter, self._histogram, self._gauge
        # the bus (metered_bus.py)
        self.consumed = counter("assay_records_consumed", "Records consumed from the bus", "topic")
        self.published = counter("assay_events_published", "Events published on the bus", "topic", "type")
        self.consumer_lag = gauge(
            "assay_consumer_lag",
            "Records not yet committed by this member, per owned partition (high watermark - committed)",
            "service",
            "group",
            "topic",
            "partition",
        )
        # scans, findings and alerts, as their events pass the bus; dedupe and rematch by callback
        self.scans_requested = counter(
            "assay_scans_requested", "Scan requests published, by reason", "reason"
        )
        self.scans_completed = counter("assay_scans_completed", "Scans completed")
        self.scans_failed = counter("assay_scans_failed", "Scans failed, by reason", "reason")
        self.scans_skipped = counter("assay_scans_skipped", "Scans skipped (too large)")
        self.scan_seconds = histogram(
            "assay_scan_duration_seconds", "From the engine taking a scan request to publishing its result"
        )
        self.scan_bytes = counter(
            "assay_scan_layer_bytes",
            "Compressed layer bytes of the images scanned (what a scan reads at most)",
        )
        self.dedupe_hits = counter("assay_dedupe_hits", "Sightings of digests already scanned or requested")
        self.rematch_seconds = histogram(
            "assay_rematch_duration_seconds",
            "One rematch of the stored inventories against a new advisory build",
        )
        self.findings = counter("assay_findings_published", "Finding events published", "severity", "state")
        self.alerts = counter("assay_alerts_published", "Threshold alerts published")
        # the API (services/api/metrics.py): latency by route, and store gauges read at scrape time
        self.api_seconds = histogram(
            "assay_api_request_duration_seconds",
            "API and console request latency",
            "method",
            "route",
            "status",
            buckets=_API_BUCKETS,
        )
        self.images = gauge("assay_images", "Images by scan status (from the store)", "status")
        self.open_findings = gauge(
            "assay_open_findings", "Open, unsuppressed findings by severity (from the store)", "severity"
        )
        self.advisory_age = gauge(
            "assay_advisory_data_age_seconds",
            "Seconds since the advisory data was last refreshed (-1: no build recorded)",
        )

    def _counter(self, name: str, doc: str, *labels: str) -> Counter:
        return Counter(name, doc, ["service", *labels], registry=self.registry)

    def _histogram(
        self, name: str, doc: str, *labels: str, buckets: tuple[float, ...] = _SCAN_BUCKETS
    ) -> Histogram:
        return Histogram(name, doc, ["service", *labels], buckets=buckets, registry=self.registry)

    def _gauge(self, name: str, doc: str, *labels: str) -> Gauge:
        """A gauge with exactly ``labels`` (the store gauges carry no ``service``: one truth per store)."""
        return Gauge(name, doc, list(labels), registry=self.registry)

    def on_scrape(self, refresh: Refresh) -> None:
        """Run ``refresh`` (e.g. reading store gauges) before every scrape."""
        self._refreshers.append(refresh)

    async def exposition(self) -> bytes:
        """The registry in Prometheus text format, after the refreshers ran (a failing one is logged)."""
        for refresh in self._refreshers:
            try:
                await refresh()
            except Exception as exc:  # a scrape still answers with the other series
                log.warning("metrics: refreshing before a scrape failed: %s", exc)
        return generate_latest(self.registry)


async def metrics_response(metrics: Metrics) -> web.Response:
    """A ``/metrics`` response for ``metrics``."""
    body = await metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def metrics_app(metrics: Metrics) -> web.Application:
    """The exporter: ``GET /metrics`` only."""

    async def handler(_: web.Request) -> web.Response:
        return await metrics_response(metrics)

    app = web.Application()
    app.router.add_get("/metrics", handler, allow_head=False)
    return app


async def serve_metrics(metrics: Metrics, listen: str, stop: asyncio.Event) -> None:
    """Serve ``/metrics`` on ``listen`` (``ASSAY_METRICS_LISTEN``) until ``stop``; nothing when empty."""
    if not listen:
        return
    await serve_app(metrics_app(metrics), listen, stop, setting="ASSAY_METRICS_LISTEN", log=log)
