"""Request Rescan on the API: ``POST /v1/images/{digest}/rescan`` (operator).

The image moves to its next scan generation in PostgreSQL (status Pending Scan, a new scan id)
exactly as ``assay rescan`` does, and the ``ScanRequested`` is published when the API has the bus
(``ASSAY_KAFKA_BOOTSTRAP``); without one the request stays requested-but-unpublished and dedupe's
sweep publishes it (``published: false`` says so). Images seen only where they cannot be pulled
(ECS Fargate) are refused with the note the console shows them with (409); unknown digests are 404;
an image seen only outside the environments the caller is limited to is 403 (``OutOfScope``).
"""

from __future__ import annotations

from typing import Any, Final

import msgspec
from aiohttp import web

from services.api.auth.middleware import PRINCIPAL
from services.api.models import Problem
from services.api.notes import FARGATE_NOTE
from services.api.openapi_parts import json_body, path_param
from services.api.scope import UNSCOPED, OutOfScope, Scope
from services.api.store import Reads
from services.common.bus.interface import Bus
from services.common.scan_requests import publish_requests, recorded_version
from services.common.store.builds import Builds
from services.common.store.requests import Requests

__all__ = [
    "FARGATE_NOTE",
    "RESCANNER",
    "RescanAccepted",
    "RescanRefused",
    "Rescanner",
    "add_rescan_routes",
    "rescan_openapi",
]

RESCANNER: Final[web.AppKey[Rescanner]] = web.AppKey("rescanner")
_ENCODER: Final = msgspec.json.Encoder()


class RescanAccepted(msgspec.Struct, frozen=True, kw_only=True):
    """A rescan requested: the image's new scan id, and whether the request is on the bus yet."""

    digest: str
    scan_id: str
    status: str = "pending"
    published: bool


class RescanRefused(Exception):
    """The image cannot be rescanned: ``status`` (404, 409) and the reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Rescanner:
    """Requests rescans over the store's pool, publishing on ``bus`` when there is one."""

    def __init__(self, reads: Reads, bus: Bus | None) -> None:
        self._reads, self._bus = reads, bus
        self._claims = Requests(reads.pool)

    async def request(self, digest: str, scope: Scope = UNSCOPED) -> RescanAccepted:
        """Request a rescan of ``digest`` for a caller limited to ``scope``; ``RescanRefused`` when it
        is unknown or cannot be pulled, ``OutOfScope`` when it was seen only outside ``scope``."""
        image = await self._reads.scoped(scope).image(digest)
        if image is None and scope.limited and await self._reads.image(digest) is not None:
            raise OutOfScope(
                f"{digest} was not seen in {scope.describe()}: it is outside this caller's scope"
            )
        if image is None:
            raise RescanRefused(404, f"no image with digest {digest!r}")
        if not image.scannable:
            raise RescanRefused(409, f"{digest}: {FARGATE_NOTE}")
        version = await recorded_version(Builds(self._reads.pool).analysis_version)
        claimed = await self._claims.rescan([digest], analysis_version=version)
        if not claimed:  # no pullable reference left since it was read
            raise RescanRefused(409, f"{digest}: no reference to pull it from is known")
        if self._bus is not None:
            await publish_requests(self._bus, self._claims, claimed)
        return RescanAccepted(digest=digest, scan_id=claimed[0].scan_id, published=self._bus is not None)


async def _post(request: web.Request) -> web.Response:
    try:
        accepted = await request.app[RESCANNER].request(
            request.match_info["digest"], request[PRINCIPAL].scope
        )
    except RescanRefused as exc:
        body = _ENCODER.encode(Problem(status=exc.status, error=str(exc)))
        return web.Response(body=body, status=exc.status, content_type="application/json")
    return web.Response(body=_ENCODER.encode(accepted), status=202, content_type="application/json")


def add_rescan_routes(app: web.Application, rescanner: Rescanner) -> None:
    """Add ``POST /v1/images/{digest}/rescan`` to the API application."""
    app[RESCANNER] = rescanner
    app.router.add_post("/v1/images/{digest}/rescan", _post)


def rescan_openapi(ref_template: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The OpenAPI path of the route and the schemas it references (``ref_template``)."""
    (accepted, problem), components = msgspec.json.schema_components(
        [RescanAccepted, Problem], ref_template=ref_template
    )
    paths = {
        "/v1/images/{digest}/rescan": {
            "post": {
                "operationId": "rescanImage",
                "summary": "Request a new scan of an image (operator)",
                "parameters": [path_param("digest", "manifest digest, e.g. sha256:…")],
                "responses": {
                    "202": json_body(accepted, "requested: the image is Pending Scan under a new scan id"),
                    "404": json_body(problem, "no such image"),
                    "409": json_body(problem, "the image cannot be pulled from anywhere (ECS Fargate only)"),
                    "503": json_body(problem, "PostgreSQL or the bus cannot be reached, or no engine yet"),
                },
            }
        }
    }
    return paths, components
