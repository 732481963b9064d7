"""The API's own auth routes: ``GET /v1/audit`` (admin) and ``GET /v1/whoami`` (any principal).

``/v1/audit`` pages newest first with ``limit`` (1..1000, default 100) and ``before`` (an entry
id: older ones only); its ``next`` link carries ``before``.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec
from aiohttp import web

from services.api.auth.access import ACCESS
from services.api.auth.audit import AuditPage
from services.api.auth.middleware import PRINCIPAL
from services.api.auth.roles import Principal
from services.api.models import Problem
from services.api.openapi_parts import json_body
from services.api.params import ParamError

__all__ = ["add_auth_routes", "auth_openapi"]

_ENCODER: Final = msgspec.json.Encoder()


def _int(request: web.Request, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ParamError(f"parameter {name!r} must be an integer, not {raw!r}") from None
    if not low <= value <= high:
        raise ParamError(f"parameter {name!r} must be between {low} and {high}, not {value}")
    return value


async def _audit(request: web.Request) -> web.Response:
    unknown = sorted(set(request.query) - {"limit", "before"})
    if unknown:
        raise ParamError(f"unknown parameter {unknown[0]!r} (known: before, limit)")
    limit = _int(request, "limit", 100, 1, 1000) or 100
    before = _int(request, "before", None, 1, 2**63 - 1)
    rows = await request.app[ACCESS].audit.entries(before=before, limit=limit + 1)
    page = rows[:limit]
    nxt = f"/v1/audit?limit={limit}&before={page[-1].id}" if len(rows) > limit else None
    return web.Response(
        body=_ENCODER.encode(AuditPage(items=page, next=nxt)), content_type="application/json"
    )


async def _whoami(request: web.Request) -> web.Response:
    principal: Principal = request[PRINCIPAL]
    return web.Response(body=_ENCODER.encode(principal), content_type="application/json")


def add_auth_routes(app: web.Application) -> None:
    """Add ``/v1/audit`` and ``/v1/whoami``."""
    app.router.add_get("/v1/audit", _audit, allow_head=False)
    app.router.add_get("/v1/whoami", _whoami, allow_head=False)


def auth_openapi(ref_template: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The OpenAPI paths of these routes and the schemas they reference (``ref_template``)."""
    (page, principal, problem), components = msgspec.json.schema_components(
        [AuditPage, Principal, Problem], ref_template=ref_template
    )
    number = {"type": "integer", "minimum": 1}
    paths = {
        "/v1/audit": {
            "get": {
                "operationId": "listAudit",
                "summary": "The audit log, newest first (admin)",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {**number, "maximum": 1000},
                    },
                    {"name": "before", "in": "query", "required": False, "schema": number},
                ],
                "responses": {
                    "200": json_body(page, "a page of entries"),
                    "400": json_body(problem, "a bad parameter"),
                    "503": json_body(problem, "PostgreSQL cannot be reached"),
                },
            }
        },
        "/v1/whoami": {
            "get": {
                "operationId": "whoami",
                "summary": "The principal the request's credentials prove, with its role",
                "responses": {"200": json_body(principal, "the caller")},
            }
        },
    }
    return paths, components
