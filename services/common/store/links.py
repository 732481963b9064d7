"""Registries linked to clusters: which clusters' engines scan a registry's images.

A link (registry host, cluster name) says the engines of that cluster (``engine_site``) can pull
from the registry. ``scan_sites_many`` turns images' environments into ``ScanRequested.sites``.
Once linked, a registry cannot lose its last link: ``unlink`` locks every link row of the registry
(``SELECT … FOR UPDATE``) before counting, so of two concurrent unlinks of its last two links the
second waits, then sees only one left and refuses. Functions take the ``Store`` (or the read side,
``Reads``): anything with the asyncpg ``pool``. Failures of PostgreSQL raise ``StoreError``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

from services.common.errors import AssayError
from services.common.store._errors import translated

__all__ = [
    "LastLinkError",
    "LinkError",
    "LinkNotFoundError",
    "cluster_name",
    "link",
    "registries",
    "registry_host",
    "scan_sites_many",
    "unlink",
]

_REGISTRY_PREFIX = "registry:"
_CLUSTER_PREFIX = "cluster:"
# a registry host[:port] (IPv6 in brackets) and a cluster name: no spaces, slashes or control chars
_HOST_RE = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")
_CLUSTER_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$")


class HasPool(Protocol):
    """``Store`` or ``Reads``: whatever holds the asyncpg pool."""

    @property
    def pool(self) -> Any: ...


class LinkError(AssayError):
    """A link operation was refused; the message says why."""


class LinkNotFoundError(LinkError):
    """The registry is not linked to that cluster."""


class LastLinkError(LinkError):
    """Removing the link would leave the registry with no cluster to scan it."""


def registry_host(value: str) -> str:
    """A registry host from ``HOST`` or ``registry:HOST``; ``LinkError`` when it is not a host."""
    host = value.strip().removeprefix(_REGISTRY_PREFIX)
    if not _HOST_RE.match(host):
        raise LinkError(f"registry {value!r}: expected a host[:port], e.g. registry.example.com:5000")
    return host


def cluster_name(value: str) -> str:
    """A cluster name from ``NAME`` or ``cluster:NAME``; ``LinkError`` when it is not a name."""
    name = value.strip().removeprefix(_CLUSTER_PREFIX)
    if not _CLUSTER_RE.match(name):
        raise LinkError(f"cluster {value!r}: expected a name of letters, digits, '.', '_' or '-'")
    return name


async def link(db: HasPool, registry: str, cluster: str) -> bool:
    """Link a registry to a cluster; True when the link is new (linking twice is harmless)."""
    host, name = registry_host(registry), cluster_name(cluster)
    with translated(f"link registry {host} to cluster {name}"):
        row = await db.pool.fetchrow(
            "INSERT INTO registry_links (registry, cluster) VALUES ($1, $2) "
            "ON CONFLICT DO NOTHING RETURNING registry",
            host,
            name,
        )
    return row is not None


async def unlink(db: HasPool, registry: str, cluster: str) -> None:
    """Remove one link; ``LinkNotFoundError`` if absent, ``LastLinkError`` if it is the last one."""
    host, name = registry_host(registry), cluster_name(cluster)
    with translated(f"unlink registry {host} from cluster {name}"):
        async with db.pool.acquire() as conn, conn.transaction():
            # Lock every link of the registry: a concurrent unlink waits here, then counts what
            # is left after this one commits (rows deleted meanwhile are skipped, not returned).
            rows = await conn.fetch("SELECT cluster FROM registry_links WHERE registry = $1 FOR UPDATE", host)
            clusters = {r["cluster"] for r in rows}
            if name not in clusters:
                raise LinkNotFoundError(f"registry {host} is not linked to cluster {name}")
            if len(clusters) == 1:
                raise LastLinkError(
                    f"cluster {name} is the last link of registry {host}: link another cluster first"
                )
            await conn.execute("DELETE FROM registry_links WHERE registry = $1 AND cluster = $2", host, name)


async def registries(db: HasPool) -> dict[str, list[str]]:
    """Every registry Assay knows (linked, or seen in an environment) with its linked clusters."""
    with translated("list registry links"):
        rows = await db.pool.fetch(
            """
            SELECT r.registry, COALESCE(array_agg(l.cluster ORDER BY l.cluster)
                                        FILTER (WHERE l.cluster IS NOT NULL), '{}') AS clusters
            FROM (SELECT registry FROM registry_links
                  UNION
                  SELECT DISTINCT substr(environment, length($1) + 1) FROM image_environments
                  WHERE starts_with(environment, $1)) AS r
            LEFT JOIN registry_links l ON l.registry = r.registry
            GROUP BY r.registry
            ORDER BY r.registry
            """,
            _REGISTRY_PREFIX,
        )
    return {r["registry"]: list(r["clusters"]) for r in rows}


async def scan_sites_many(store: HasPool, images: Sequence[Sequence[str]]) -> list[list[str]]:
    """For each image's environments, the clusters whose engines may scan it (``[]`` = any engine),
    with at most two queries for the whole batch (registry links, agent clusters).

    A ``cluster:NAME`` environment contributes NAME, unless NAME is an agent's cluster (stored with
    ``mode = 'agent'``, ``assay environments add --agent``): an agent runs no engines, so its images
    go to any engine, which pulls them from their registry. A ``registry:HOST`` environment
    contributes the clusters HOST is linked to; other environments (and unlinked registries)
    nothing. Each list sorted.
    """
    agents = await _agent_clusters(store, images)
    registries = {env for envs in images for env in envs if env.startswith(_REGISTRY_PREFIX)}
    hosts = sorted(env.removeprefix(_REGISTRY_PREFIX) for env in registries)
    linked: dict[str, set[str]] = {}
    if hosts:
        with translated("read registry links"):
            rows = await store.pool.fetch(
                "SELECT registry, cluster FROM registry_links WHERE registry = ANY($1::text[])", hosts
            )
        for r in rows:
            linked.setdefault(r["registry"], set()).add(r["cluster"])
    out: list[list[str]] = []
    for envs in images:
        sites: set[str] = set()
        for env in envs:
            if env.startswith(_CLUSTER_PREFIX) and env.removeprefix(_CLUSTER_PREFIX) not in agents:
                sites.add(env.removeprefix(_CLUSTER_PREFIX))
            elif env.startswith(_REGISTRY_PREFIX):
                sites |= linked.get(env.removeprefix(_REGISTRY_PREFIX), set())
        out.append(sorted(sites))
    return out


async def _agent_clusters(store: HasPool, images: Sequence[Sequence[str]]) -> set[str]:
    """The agents' clusters among the images' cluster environments (one query, none if no cluster)."""
    clusters = sorted(
        {
            env.removeprefix(_CLUSTER_PREFIX)
            for envs in images
            for env in envs
            if env.startswith(_CLUSTER_PREFIX)
        }
    )
    if not clusters:
        return set()
    with translated("read agent clusters"):
        rows = await store.pool.fetch(
            "SELECT name FROM environments"
            " WHERE kind = 'cluster' AND mode = 'agent' AND name = ANY($1::text[])",
            clusters,
        )
    return {r["name"] for r in rows}
