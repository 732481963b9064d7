"""The Environments page and its forms: clusters, registries and ECS accounts with their OU and last
inventory time, and the registry <-> cluster links with Link and Unlink.

Environments are what inventory reported (``image_environments``: one row per image sighting,
so the last inventory time is the newest sighting) plus the clusters configured without an image
yet (``environments``). Link and Unlink go through ``services/common/store/links.py``, the same
rules as the API's routes: Unlink of a registry's last link is refused with its message (409).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from services.api.links import check_link_scope, visible_registries
from services.api.store.environments import EnvironmentRow, environment_rows
from services.common.store import links
from services.console.base import CONSOLE, page, reads_of

__all__ = ["EnvironmentRow", "add_environment_routes", "environment_rows"]  # the rows: the read model's


async def _render(
    request: web.Request, status: int = 200, message: str = "", error: str = ""
) -> web.Response:
    reads = reads_of(request)  # within the caller's scope
    return page(
        request,
        "environments.html",
        status,
        rows=await reads.environments(),
        registries=await visible_registries(reads),
        message=message,
        error=error,
    )


async def _environments(request: web.Request) -> web.StreamResponse:
    return await _render(request, message=request.query.get("done", ""))


async def _pair(request: web.Request) -> tuple[str, str]:
    form = await request.post()
    return str(form.get("registry", "")), str(form.get("cluster", ""))


async def _link(request: web.Request) -> web.StreamResponse:
    registry, cluster = await _pair(request)
    try:
        await check_link_scope(reads_of(request), registry, cluster)  # OutOfScope: 403
        await links.link(request.app[CONSOLE].reads, registry, cluster)
    except links.LinkError as exc:
        return await _render(request, 400, error=str(exc))
    return _done(f"Linked {links.registry_host(registry)} to {links.cluster_name(cluster)}.")


async def _unlink(request: web.Request) -> web.StreamResponse:
    registry, cluster = await _pair(request)
    try:
        await check_link_scope(reads_of(request), registry, cluster)  # OutOfScope: 403
        await links.unlink(request.app[CONSOLE].reads, registry, cluster)
    except links.LastLinkError as exc:
        return await _render(request, 409, error=f"Unlink refused: {exc}")
    except links.LinkNotFoundError as exc:
        return await _render(request, 404, error=str(exc))
    except links.LinkError as exc:
        return await _render(request, 400, error=str(exc))
    return _done(f"Unlinked {links.registry_host(registry)} from {links.cluster_name(cluster)}.")


def _done(message: str) -> web.Response:
    """Back to the page (Post/Redirect/Get), saying what was done."""
    return web.Response(
        status=303, headers={"Location": f"/console/environments?{urlencode({'done': message})}"}
    )


def add_environment_routes(app: web.Application, wrap: Any) -> None:
    """Mount the Environments page and its Link/Unlink forms (``wrap``: the console's guard)."""
    app.router.add_get("/console/environments", wrap(_environments), allow_head=False)
    app.router.add_post("/console/environments/link", wrap(_link))
    app.router.add_post("/console/environments/unlink", wrap(_unlink))
