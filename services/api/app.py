"""The aiohttp application: routes over the store, JSON in msgspec Structs, behind authentication.

``make_app(reads, access)`` takes the store's read side and the auth dependencies from its caller
(the lifespan in ``server``, or a test), so the app holds no connection of its own and no module
state. Errors are JSON ``Problem`` bodies: 400 names the bad parameter, 401/403/429 come from the
auth middleware (``auth/middleware.py``), 403 also a change outside the caller's scope, 404 the
missing resource (or one outside the caller's scope: every read goes through ``reads_for``), 503
the store or bus failure.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Final

import msgspec
from aiohttp import web

from schemas.vocabulary import severity_rank
from services.api.advisories import add_advisory_routes
from services.api.auth.access import ACCESS, Access
from services.api.auth.middleware import auth_middleware
from services.api.auth.routes import add_auth_routes
from services.api.environments import AgentDefaults, add_environment_routes
from services.api.links import add_link_routes
from services.api.metrics import add_metrics
from services.api.models import FindingPage, Health, ImagePage, Problem
from services.api.openapi import openapi_document
from services.api.params import ParamError, encode_cursor, finding_filter, image_filter, next_link
from services.api.rescan import Rescanner, add_rescan_routes
from services.api.scope import OutOfScope
from services.api.scoped import reads_for
from services.api.store import Reads
from services.api.workloads import add_workload_routes
from services.common.bus.interface import Bus
from services.common.errors import AssayError, StoreError
from services.common.metrics import Metrics

__all__ = ["READS", "make_app"]

log = logging.getLogger(__name__)

READS: Final = web.AppKey("reads", Reads)
_ENCODER: Final = msgspec.json.Encoder()
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(body: msgspec.Struct | dict[str, object], status: int = 200) -> web.Response:
    return web.Response(body=_ENCODER.encode(body), status=status, content_type="application/json")


def _problem(status: int, message: str) -> web.Response:
    return _json(Problem(status=status, error=message), status)


@web.middleware
async def _errors(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """Translate bad parameters, store failures and aiohttp's own HTTP errors into Problem bodies."""
    try:
        return await handler(request)
    except ParamError as exc:
        return _problem(400, str(exc))
    except OutOfScope as exc:
        return _problem(403, str(exc))
    except AssayError as exc:  # the store, the bus, or no engine recorded yet: try again later
        resource = request.match_info.route.resource  # the route, not the path: no caller's text in logs
        log.warning("api: %s %s: %s", request.method, resource.canonical if resource else "?", exc)
        return _problem(503, str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _problem(exc.status, exc.reason)


async def _list_images(request: web.Request) -> web.Response:
    query = {k: request.query.getall(k) for k in request.query}
    flt = image_filter(query)
    rows = await reads_for(request, READS).images(msgspec.structs.replace(flt, limit=flt.limit + 1))
    page, more = rows[: flt.limit], len(rows) > flt.limit
    nxt = next_link(request.path, query, encode_cursor(page[-1].digest)) if more else None
    return _json(ImagePage(items=page, next=nxt))


async def _get_image(request: web.Request) -> web.Response:
    digest = request.match_info["digest"]
    row = await reads_for(request, READS).image(digest)
    return _json(row) if row is not None else _problem(404, f"no image with digest {digest!r}")


async def _list_findings(request: web.Request) -> web.Response:
    query = {k: request.query.getall(k) for k in request.query}
    flt = finding_filter(query)
    rows = await reads_for(request, READS).findings(msgspec.structs.replace(flt, limit=flt.limit + 1))
    page, more = rows[: flt.limit], len(rows) > flt.limit
    nxt = None
    if more:
        last = page[-1]
        nxt = next_link(request.path, query, encode_cursor((severity_rank(last.severity), last.finding_id)))
    return _json(FindingPage(items=page, next=nxt))


async def _get_finding(request: web.Request) -> web.Response:
    finding_id = request.match_info["finding_id"]
    row = await reads_for(request, READS).finding(finding_id)
    return _json(row) if row is not None else _problem(404, f"no finding with id {finding_id!r}")


async def _health(request: web.Request) -> web.Response:
    try:
        await request.app[READS].ping()
    except StoreError as exc:
        return _json(Health(status="unavailable", database=str(exc)), 503)
    return _json(Health(status="ok"))


def make_app(
    reads: Reads,
    access: Access,
    *,
    bus: Bus | None = None,
    metrics: Metrics | None = None,
    rulesets_dir: str = "",
    agent: AgentDefaults | None = None,
) -> web.Application:
    """The API over ``reads``, behind ``access`` (auth on every route but ``/healthz``).

    ``bus``: where requested rescans are published (None: dedupe's sweep publishes them);
    ``metrics``: the process's registry (a new one when None); ``rulesets_dir``: the policy's
    rulesets, for the console's Rulesets page; ``agent``: what an added agent cluster's instructions
    name by default (``environments.agent_defaults``). The caller owns the store and bus.
    """
    app = web.Application(middlewares=[_errors, auth_middleware])
    add_metrics(app, metrics or Metrics("api"), reads.pool)  # GET /metrics; latency of every route
    app[READS] = reads
    app[ACCESS] = access
    app.cleanup_ctx.append(access.lifespan)
    document = _ENCODER.encode(openapi_document(access.config.oidc_issuer))

    async def _openapi(_: web.Request) -> web.Response:
        return web.Response(body=document, content_type="application/json")

    app.router.add_get("/v1/images", _list_images, allow_head=False)
    app.router.add_get("/v1/images/{digest}", _get_image, allow_head=False)
    app.router.add_get("/v1/findings", _list_findings, allow_head=False)
    app.router.add_get("/v1/findings/{finding_id:.+}", _get_finding, allow_head=False)
    app.router.add_get("/healthz", _health, allow_head=False)
    app.router.add_get("/openapi.json", _openapi, allow_head=False)
    add_link_routes(app, reads)  # /v1/registries: registry <-> cluster links
    add_advisory_routes(app, reads)  # /v1/advisories: the current advisory build and its age
    add_workload_routes(app, reads)  # which workloads run an image, which images a workload runs
    add_environment_routes(app, reads, agent or AgentDefaults())  # /v1/environments: list, add, remove
    add_rescan_routes(app, Rescanner(reads, bus))  # POST /v1/images/{digest}/rescan
    add_auth_routes(app)  # /v1/audit, /v1/whoami
    from services.console import add_console_routes  # here: the console imports services.api.params

    add_console_routes(app, reads, rulesets_dir=rulesets_dir)  # /console: the web console (services/console)
    return app
