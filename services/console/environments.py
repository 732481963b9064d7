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

import msgspec
from aiohttp import web

from services.common.clock import rfc3339
from services.common.store import links
from services.common.store._errors import translated
from services.console.base import CONSOLE, page

__all__ = ["EnvironmentRow", "add_environment_routes", "environment_rows"]

_KINDS = {"cluster": "Cluster", "registry": "Registry", "ecs": "ECS account"}


class EnvironmentRow(msgspec.Struct, frozen=True, kw_only=True):
    """One environment: its kind, name, OU, when inventory last reported from it, how many images."""

    environment: str
    kind: str  # Cluster, Registry, ECS account, or the prefix as written
    name: str
    ou: str = ""
    last_seen: str = ""  # RFC 3339, "" when nothing was reported yet
    images: int = 0


async def environment_rows(pool: Any) -> list[EnvironmentRow]:
    """Every environment known from sightings or configuration, by kind and name."""
    with translated("list environments"):
        rows = await pool.fetch(
            """
            SELECT environment, max(ou) AS ou, max(last_seen) AS last_seen, count(DISTINCT digest) AS images
            FROM (SELECT environment, ou, last_seen, digest FROM image_environments
                  UNION ALL
                  SELECT kind || ':' || name, ou, NULL, NULL FROM environments) AS e
            GROUP BY environment ORDER BY environment
            """
        )
    out = []
    for r in rows:
        prefix, _, name = r["environment"].partition(":")
        out.append(
            EnvironmentRow(
                environment=r["environment"],
                kind=_KINDS.get(prefix, prefix),
                name=name or prefix,
                ou=r["ou"] or "",
                last_seen=rfc3339(r["last_seen"]) if r["last_seen"] is not None else "",
                images=r["images"],
            )
        )
    return out


async def _render(
    request: web.Request, status: int = 200, message: str = "", error: str = ""
) -> web.Response:
    reads = request.app[CONSOLE].reads
    return page(
        request,
        "environments.html",
        status,
        rows=await environment_rows(reads.pool),
        registries=await links.registries(reads),
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
        await links.link(request.app[CONSOLE].reads, registry, cluster)
    except links.LinkError as exc:
        return await _render(request, 400, error=str(exc))
    return _done(f"Linked {links.registry_host(registry)} to {links.cluster_name(cluster)}.")


async def _unlink(request: web.Request) -> web.StreamResponse:
    registry, cluster = await _pair(request)
    try:
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
