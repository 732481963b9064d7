"""Prometheus metrics, the same for every service: one registry per process, served on its own port.

Built on ``prometheus-client``, the Prometheus project's own library: it writes the text
exposition format exactly as Prometheus parses it, and its counters and histograms have the
semantics dashboards expect (``_total``, ``_bucket``/``le``, ``_created``). The registry is an
object made by the service's lifespan and handed down (``Metrics``), never the library's global
default registry; ``serve_metrics`` exposes it on ``ASSAY_METRICS_LISTEN`` (its own port, no
authentication: scrape it from inside the cluster, as ``clair`` and most exporters do).

What is measured, and where:
- the bus (``services/common/metered_bus.py``), for every service with no change to handlers:
  records consumed, scans requested/completed/failed/skipped, scan duration in the engine,
  findings published by severity and state, alerts;
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
        r, svc = self.registry, ["service"]
        self.consumed = Counter(
            "assay_records_consumed", "Records consumed from the bus", [*svc, "topic"], registry=r
        )
        self.published = Counter(
            "assay_events_published", "Events published on the bus", [*svc, "topic", "type"], registry=r
        )
        self.scans_requested = Counter(
            "assay_scans_requested", "Scan requests published, by reason", [*svc, "reason"], registry=r
        )
        self.scans_completed = Counter("assay_scans_completed", "Scans completed", svc, registry=r)
        self.scans_failed = Counter(
            "assay_scans_failed", "Scans failed, by reason", [*svc, "reason"], registry=r
        )
        self.scans_skipped = Counter("assay_scans_skipped", "Scans skipped (too large)", svc, registry=r)
        self.scan_seconds = Histogram(
            "assay_scan_duration_seconds",
            "From the engine taking a scan request to publishing its result",
            svc,
            buckets=_SCAN_BUCKETS,
            registry=r,
        )
        self.findings = Counter(
            "assay_findings_published", "Finding events published", [*svc, "severity", "state"], registry=r
        )
        self.alerts = Counter("assay_alerts_published", "Threshold alerts published", svc, registry=r)
        self.api_seconds = Histogram(
            "assay_api_request_duration_seconds",
            "API and console request latency",
            [*svc, "method", "route", "status"],
            buckets=_API_BUCKETS,
            registry=r,
        )
        self.images = Gauge("assay_images", "Images by scan status (from the store)", ["status"], registry=r)
        self.open_findings = Gauge(
            "assay_open_findings",
            "Open, unsuppressed findings by severity (from the store)",
            ["severity"],
            registry=r,
        )
        self.advisory_age = Gauge(
            "assay_advisory_data_age_seconds",
            "Seconds since the advisory data was last refreshed (-1: no build recorded)",
            registry=r,
        )

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
