"""The API's metrics: request latency by route, and the store's state read at scrape time.

``/metrics`` on the API's own port needs a viewer (every route but ``/healthz`` is
authenticated); the same registry is served without authentication on ``ASSAY_METRICS_LISTEN``
for Prometheus. The store gauges cost three small aggregate queries per scrape.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiohttp import web

from services.common.metrics import Metrics, metrics_response
from services.common.store._errors import translated
from services.common.store.builds import Builds

__all__ = ["METRICS", "add_metrics", "store_gauges"]

METRICS: Final = web.AppKey("metrics", Metrics)
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def store_gauges(metrics: Metrics, pool: Any) -> Callable[[], Awaitable[None]]:
    """A scrape-time refresher of images by status, open findings by severity and advisory data age."""

    async def refresh() -> None:
        with translated("read metrics from the store"):
            statuses = await pool.fetch("SELECT status, count(*) AS n FROM images GROUP BY status")
            severities = await pool.fetch(
                "SELECT upper(severity) AS severity, count(*) AS n FROM findings "
                "WHERE state <> 'resolved' AND suppression = '' GROUP BY 1"
            )
        metrics.images.clear()
        for row in statuses:
            metrics.images.labels(row["status"]).set(row["n"])
        metrics.open_findings.clear()
        for row in severities:
            metrics.open_findings.labels(row["severity"]).set(row["n"])
        builds = Builds(pool)
        latest = await builds.latest()
        age = (await builds.now() - latest.checked_at).total_seconds() if latest is not None else -1.0
        metrics.advisory_age.set(age)

    return refresh


@web.middleware
async def _timed(request: web.Request, handler: _Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"  # never the raw path: cardinality
        metrics = request.app[METRICS]
        metrics.api_seconds.labels(metrics.service, request.method, route, str(status)).observe(
            time.perf_counter() - started
        )


async def _metrics(request: web.Request) -> web.Response:
    return await metrics_response(request.app[METRICS])


def add_metrics(app: web.Application, metrics: Metrics, pool: Any) -> None:
    """Time every request, read the store gauges at scrape time, and serve ``GET /metrics``."""
    app[METRICS] = metrics
    app.middlewares.insert(0, _timed)
    metrics.on_scrape(store_gauges(metrics, pool))
    app.router.add_get("/metrics", _metrics, allow_head=False)
