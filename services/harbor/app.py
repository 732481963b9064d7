"""The adapter's HTTP routes (``/api/v1``), behind an optional API key.

Status codes follow the specification: 202 with the scan id; 400 for a body that is not a scan
request; 422 for a field Assay cannot serve (the message names it); 302 with ``Refresh-After``
while a report is being made; 404 for an unknown or expired id; 500 with the error when the scan
failed; 401 without the configured API key; 503 when every scan slot is busy.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Final

import msgspec
from aiohttp import web
from aiohttp.typedefs import Middleware

from services.harbor.jobs import Jobs, TooManyJobs
from services.harbor.models import (
    ERROR_MIME,
    METADATA_MIME,
    RAW_REPORT_MIME,
    REPORT_MIME,
    SCAN_RESPONSE_MIME,
    ErrorResponse,
    ScannerAdapterMetadata,
    ScanRequest,
    ScanResponse,
)
from services.harbor.report import harbor_report
from services.harbor.scanner import RequestError, pull_target
from services.policy.report import report_json

__all__ = ["JOBS", "make_app"]

JOBS: Final = web.AppKey("jobs", Jobs)
_METADATA: Final = web.AppKey("metadata", ScannerAdapterMetadata)
_ENCODER: Final = msgspec.json.Encoder()
_DECODER: Final = msgspec.json.Decoder(ScanRequest)
REFRESH_AFTER_S: Final = 5
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _doc(body: msgspec.Struct, mime: str, status: int = 200) -> web.Response:
    response = web.Response(body=_ENCODER.encode(body), status=status)
    response.headers["Content-Type"] = mime  # with its version parameter, as the specification writes it
    return response


def _error(status: int, message: str) -> web.Response:
    return _doc(ErrorResponse.of(message), ERROR_MIME, status)


def _auth(api_key: str) -> Middleware:
    @web.middleware
    async def check(request: web.Request, handler: _Handler) -> web.StreamResponse:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        given = request.headers.get("X-ScannerAdapter-API-Key", given)
        if not hmac.compare_digest(given.encode(), api_key.encode()):
            return _error(401, "an API key is required (Authorization: Bearer KEY)")
        return await handler(request)

    return check


async def _metadata(request: web.Request) -> web.Response:
    return _doc(request.app[_METADATA], METADATA_MIME)


async def _accept_scan(request: web.Request) -> web.Response:
    try:
        scan = _DECODER.decode(await request.read())
    except msgspec.ValidationError as exc:
        return _error(400, f"not a scan request: {exc}")
    except msgspec.DecodeError as exc:
        return _error(400, f"not JSON: {exc}")
    try:
        pull_target(scan)  # every field checked before the job is accepted
        job = request.app[JOBS].submit(scan)
    except RequestError as exc:
        return _error(422, str(exc))
    except TooManyJobs as exc:
        return _error(503, str(exc))
    return _doc(ScanResponse(id=job.id), SCAN_RESPONSE_MIME, 202)


async def _report(request: web.Request) -> web.Response:
    job = request.app[JOBS].get(request.match_info["scan_id"])
    if job is None:
        return _error(404, f"no scan request {request.match_info['scan_id']!r}")
    if job.status == "pending":
        return web.Response(status=302, headers={"Refresh-After": str(REFRESH_AFTER_S)})
    if job.status == "failed" or job.report is None:
        return _error(500, job.error)
    if RAW_REPORT_MIME in request.headers.get("Accept", ""):
        response = web.Response(body=report_json(job.report).encode(), status=200)
        response.headers["Content-Type"] = RAW_REPORT_MIME
        return response
    metadata = request.app[_METADATA]
    return _doc(harbor_report(job.report, job.request.artifact, metadata.scanner), REPORT_MIME)


def make_app(jobs: Jobs, metadata: ScannerAdapterMetadata, *, api_key: str = "") -> web.Application:
    """The adapter: ``jobs`` runs the scans; with ``api_key`` every route asks for it."""
    app = web.Application(middlewares=[_auth(api_key)] if api_key else [])
    app[JOBS] = jobs
    app[_METADATA] = metadata
    app.router.add_get("/api/v1/metadata", _metadata)
    app.router.add_post("/api/v1/scan", _accept_scan)
    app.router.add_get("/api/v1/scan/{scan_id}/report", _report)
    return app
