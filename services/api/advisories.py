"""The advisory data on the API: which build engines and policy use, how old it is, what it holds.

``GET /v1/advisories``: the newest build the updater recorded (``store/builds.py``) with its age
in seconds since the last successful refresh, its sources and size, and ``stale``: whether the
policy service has recorded the ``advisory-data-stale`` finding on the system (data older than two
updater intervals; ``services/policy/freshness.py``). 404 before the first build (no updater).
"""

from __future__ import annotations

from typing import Any, Final

import msgspec
from aiohttp import web

from services.api.models import Problem
from services.api.openapi_parts import json_body
from services.api.store import FindingFilter, Reads
from services.common.store.builds import STALE_ID, SYSTEM_DIGEST, Builds, rfc3339

__all__ = ["AdvisoryStatus", "add_advisory_routes", "advisory_openapi"]

_READS: Final = web.AppKey("advisory_reads", Reads)
_ENCODER: Final = msgspec.json.Encoder()


class AdvisoryStatus(msgspec.Struct, frozen=True, kw_only=True):
    """The current advisory database build."""

    build_id: str
    built_at: str  # RFC 3339: when the updater built it
    checked_at: str  # RFC 3339: the last successful refresh (sources read, found unchanged or new)
    age_seconds: float  # now - checked_at
    stale: bool  # older than two updater intervals: the system carries a finding saying so
    sources: list[str] = []  # "<kind>:<location>": osv, kev, epss, cvss
    advisories: int = 0
    size_bytes: int = 0
    sha256: str = ""
    object_key: str = ""
    published: bool = False  # announced on assay.advisories.v1


async def advisory_status(reads: Reads) -> AdvisoryStatus | None:
    """The current build's status, or None before the first build."""
    builds = Builds(reads.pool)
    build = await builds.latest()
    if build is None:
        return None
    now = await builds.now()
    stale = await reads.findings(FindingFilter(digests=[SYSTEM_DIGEST], limit=100))
    return AdvisoryStatus(
        build_id=build.build_id,
        built_at=rfc3339(build.built_at),
        checked_at=rfc3339(build.checked_at),
        age_seconds=round((now - build.checked_at).total_seconds(), 1),
        stale=any(f.id == STALE_ID for f in stale),
        sources=build.sources,
        advisories=build.advisories,
        size_bytes=build.size_bytes,
        sha256=build.sha256,
        object_key=build.object_key,
        published=build.published,
    )


async def _get(request: web.Request) -> web.Response:
    status = await advisory_status(request.app[_READS])
    if status is None:
        body = Problem(
            status=404, error="no advisory build recorded yet: is `assay service updater` running?"
        )
        return web.Response(body=_ENCODER.encode(body), status=404, content_type="application/json")
    return web.Response(body=_ENCODER.encode(status), content_type="application/json")


def add_advisory_routes(app: web.Application, reads: Reads) -> None:
    """Add ``GET /v1/advisories`` to the API application."""
    app[_READS] = reads
    app.router.add_get("/v1/advisories", _get, allow_head=False)


def advisory_openapi(ref_template: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The OpenAPI path of the route and the schemas it references (``ref_template``)."""
    (status, problem), components = msgspec.json.schema_components(
        [AdvisoryStatus, Problem], ref_template=ref_template
    )

    paths = {
        "/v1/advisories": {
            "get": {
                "operationId": "getAdvisories",
                "summary": "The current advisory database build: its age, sources and whether it is stale",
                "responses": {
                    "200": json_body(status, "the newest build"),
                    "404": json_body(problem, "no build recorded yet (no updater has run)"),
                    "503": json_body(problem, "PostgreSQL cannot be reached"),
                },
            }
        }
    }
    return paths, components
