"""Where images run inside clusters: the workload context of sightings (migration 0007).

Dedupe records, for every cluster sighting that names a workload, the row (digest, environment,
namespace, workload kind, workload, container) with the repository, the pod count the sighting
reported and when it was last seen; an ``ImageRemoved`` for (digest, environment, repository)
removes that image's workloads there. The read API answers "which workloads run this image"
(``for_image``) and "which images does this workload run" (``for_workload``); findings list the
workloads of their image.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from services.common.store._errors import translated

__all__ = ["Workload", "WorkloadImage", "WorkloadSighting", "Workloads"]


class WorkloadSighting(msgspec.Struct, frozen=True, kw_only=True):
    """A cluster sighting's workload context (``ImageDiscovered`` with a workload)."""

    digest: str
    environment: str
    namespace: str
    workload_kind: str
    workload: str
    container: str = ""
    repository: str = ""
    pod_count: int = 0


class Workload(msgspec.Struct, frozen=True, kw_only=True):
    """A workload running an image: cluster, namespace, kind and name, container and pod count."""

    cluster: str  # the environment without its "cluster:" prefix
    namespace: str
    kind: str
    name: str
    container: str = ""
    repository: str = ""
    pod_count: int = 0  # Running pods using the image (0: not reported)
    last_seen: str | None = None


class WorkloadImage(msgspec.Struct, frozen=True, kw_only=True):
    """An image a workload runs, with its scan status."""

    digest: str
    image_ref: str | None = None
    status: str = "pending"
    container: str = ""
    repository: str = ""
    pod_count: int = 0
    last_seen: str | None = None


_UPSERT = """
INSERT INTO image_workloads AS w (digest, environment, namespace, workload_kind, workload, container,
                                  repository, pod_count)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::int[])
ON CONFLICT (digest, environment, namespace, workload_kind, workload, container) DO UPDATE SET
    repository = EXCLUDED.repository, pod_count = EXCLUDED.pod_count, last_seen = now()
"""


def _cluster(environment: str) -> str:
    return environment.removeprefix("cluster:")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class Workloads:
    """The statements on an asyncpg pool; get one from ``Store.workloads``."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def record(self, sightings: Sequence[WorkloadSighting]) -> None:
        """Keep the workload context of these sightings (their images must exist: claim them first)."""
        rows = {
            (s.digest, s.environment, s.namespace, s.workload_kind, s.workload, s.container): s
            for s in sightings
        }
        if not rows:
            return
        values = list(rows.values())
        with translated(f"record {len(values)} workload sightings"):
            await self._pool.execute(
                _UPSERT,
                [s.digest for s in values],
                [s.environment for s in values],
                [s.namespace for s in values],
                [s.workload_kind for s in values],
                [s.workload for s in values],
                [s.container for s in values],
                [s.repository for s in values],
                [max(0, s.pod_count) for s in values],
            )

    async def remove(self, *, digest: str, environment: str, repository: str) -> None:
        """The image no longer runs under ``repository`` in ``environment``: forget its workloads there."""
        with translated(f"remove the workloads of {digest} in {environment}"):
            await self._pool.execute(
                "DELETE FROM image_workloads"
                " WHERE digest = $1 AND environment = $2 AND repository IN ($3, '')",
                digest,
                environment,
                repository,
            )

    async def for_image(self, digest: str) -> list[Workload]:
        """The workloads running ``digest``, by cluster, namespace, kind, name and container."""
        with translated(f"read the workloads of {digest}"):
            rows = await self._pool.fetch(
                """
                SELECT environment, namespace, workload_kind, workload, container, repository, pod_count,
                       last_seen
                FROM image_workloads WHERE digest = $1
                ORDER BY environment, namespace, workload_kind, workload, container
                """,
                digest,
            )
        return [
            Workload(
                cluster=_cluster(r["environment"]),
                namespace=r["namespace"],
                kind=r["workload_kind"],
                name=r["workload"],
                container=r["container"],
                repository=r["repository"],
                pod_count=r["pod_count"],
                last_seen=_iso(r["last_seen"]),
            )
            for r in rows
        ]

    async def for_workload(
        self, *, cluster: str, namespace: str, kind: str, name: str
    ) -> list[WorkloadImage]:
        """The images the workload runs (kind compared case-insensitively), by digest and container."""
        with translated(f"read the images of {kind}/{name} in {cluster}/{namespace}"):
            rows = await self._pool.fetch(
                """
                SELECT w.digest, i.image_ref, i.status, w.container, w.repository, w.pod_count, w.last_seen
                FROM image_workloads w JOIN images i ON i.digest = w.digest
                WHERE w.environment = $1 AND w.namespace = $2 AND lower(w.workload_kind) = lower($3)
                  AND w.workload = $4
                ORDER BY w.digest, w.container
                """,
                f"cluster:{_cluster(cluster)}",
                namespace,
                kind,
                name,
            )
        return [
            WorkloadImage(
                digest=r["digest"],
                image_ref=r["image_ref"],
                status=r["status"],
                container=r["container"],
                repository=r["repository"],
                pod_count=r["pod_count"],
                last_seen=_iso(r["last_seen"]),
            )
            for r in rows
        ]
