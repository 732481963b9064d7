"""Registry <-> cluster links on the API: list, link, unlink (``services/common/store/links.py``).

- ``GET /v1/registries``: every known registry with the clusters linked to it;
- ``PUT /v1/registries/{registry}/links/{cluster}``: link (201 when new, 200 when it existed);
- ``DELETE /v1/registries/{registry}/links/{cluster}``: unlink (204), 404 when not linked,
  409 when it is the registry's last link.

Names may carry their environment prefix (``registry:HOST``, ``cluster:NAME``); a bad name is 400.
A caller limited to some environments sees only the registries and clusters its scope covers, and
may link or unlink only when it covers both (403 otherwise).
"""

from __future__ import annotations

from typing import Any, Final

import msgspec
from aiohttp import web

from services.api.models import Problem, json_response, problem_response
from services.api.openapi_parts import json_body, path_param
from services.api.scope import OutOfScope
from services.api.scoped import reads_for
from services.api.store import Reads
from services.common.store import links

__all__ = [
    "RegistryLinks",
    "RegistryList",
    "add_link_routes",
    "check_link_scope",
    "link_openapi",
    "visible_registries",
]

_READS: Final = web.AppKey("link_reads", Reads)
_LINK_PATH: Final = "/v1/registries/{registry}/links/{cluster}"


class RegistryLinks(msgspec.Struct, frozen=True, kw_only=True):
    """A registry and the clusters whose engines scan it (empty: any engine)."""

    registry: str  # the host; its environment is "registry:<host>"
    clusters: list[str] = []


class RegistryList(msgspec.Struct, frozen=True, kw_only=True):
    """Every registry known from links or sightings, by host."""

    items: list[RegistryLinks]


async def visible_registries(reads: Reads) -> dict[str, list[str]]:
    """The registries and linked clusters ``reads``' scope covers (every one when not limited)."""
    found = await links.registries(reads)
    if not reads.scope.limited:
        return found
    return {
        host: [c for c in clusters if await reads.covers(f"cluster:{c}")]
        for host, clusters in found.items()
        if await reads.covers(f"registry:{host}")
    }


async def check_link_scope(reads: Reads, registry: str, cluster: str) -> None:
    """``OutOfScope`` unless ``reads``' scope covers both the registry and the cluster
    (``LinkError`` for a name that is not one)."""
    host, name = links.registry_host(registry), links.cluster_name(cluster)
    for environment in (f"registry:{host}", f"cluster:{name}"):
        if not await reads.covers(environment):
            raise OutOfScope(f"{environment} is outside this caller's scope ({reads.scope.describe()})")


async def _list(request: web.Request) -> web.Response:
    found = await visible_registries(reads_for(request, _READS))
    return json_response(
        RegistryList(items=[RegistryLinks(registry=r, clusters=c) for r, c in found.items()])
    )


async def _put(request: web.Request) -> web.Response:
    registry, cluster = request.match_info["registry"], request.match_info["cluster"]
    try:
        await check_link_scope(reads_for(request, _READS), registry, cluster)
        created = await links.link(request.app[_READS], registry, cluster)
        host = links.registry_host(registry)
    except links.LinkError as exc:
        return problem_response(400, str(exc))
    found = await visible_registries(reads_for(request, _READS))
    return json_response(RegistryLinks(registry=host, clusters=found.get(host, [])), 201 if created else 200)


async def _delete(request: web.Request) -> web.Response:
    registry, cluster = request.match_info["registry"], request.match_info["cluster"]
    try:
        await check_link_scope(reads_for(request, _READS), registry, cluster)
        await links.unlink(request.app[_READS], registry, cluster)
    except links.LastLinkError as exc:
        return problem_response(409, str(exc))
    except links.LinkNotFoundError as exc:
        return problem_response(404, str(exc))
    except links.LinkError as exc:
        return problem_response(400, str(exc))
    return web.Response(status=204)


def add_link_routes(app: web.Application, reads: Reads) -> None:
    """Add the link routes to the API application, over the store's pool behind ``reads``."""
    app[_READS] = reads
    app.router.add_get("/v1/registries", _list, allow_head=False)
    app.router.add_put(_LINK_PATH, _put)
    app.router.add_delete(_LINK_PATH, _delete)


def link_openapi(ref_template: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The OpenAPI paths of these routes and the schemas they reference (``ref_template``)."""
    (page, one, problem), components = msgspec.json.schema_components(
        [RegistryList, RegistryLinks, Problem], ref_template=ref_template
    )

    params = [
        path_param("registry", "registry host (or registry:HOST), e.g. registry.example.com:5000"),
        path_param("cluster", "cluster name (or cluster:NAME)"),
    ]
    down = json_body(problem, "PostgreSQL cannot be reached")
    bad = json_body(problem, "the registry or cluster is not a valid name")
    paths = {
        "/v1/registries": {
            "get": {
                "operationId": "listRegistries",
                "summary": "Registries (linked or seen) with the clusters whose engines scan them",
                "responses": {"200": json_body(page, "every registry, by host"), "503": down},
            }
        },
        "/v1/registries/{registry}/links/{cluster}": {
            "put": {
                "operationId": "linkRegistry",
                "summary": "Link a registry to a cluster: that cluster's engines scan its images",
                "parameters": params,
                "responses": {
                    "200": json_body(one, "already linked; the registry's links"),
                    "201": json_body(one, "linked; the registry's links"),
                    "400": bad,
                    "503": down,
                },
            },
            "delete": {
                "operationId": "unlinkRegistry",
                "summary": "Unlink a registry from a cluster (never its last link)",
                "parameters": params,
                "responses": {
                    "204": {"description": "unlinked"},
                    "400": bad,
                    "404": json_body(problem, "the registry is not linked to that cluster"),
                    "409": json_body(problem, "the cluster is the registry's last link"),
                    "503": down,
                },
            },
        },
    }
    return paths, components
