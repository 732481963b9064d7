"""Dedupe's side of ``image_workloads`` (migration 0007): the workload context of cluster sightings.

For every cluster sighting that names a workload, dedupe keeps the row (digest, environment,
namespace, workload kind, workload, container) with the repository, the pod count the sighting
reported and when it was last seen; an ``ImageRemoved`` for (digest, environment, repository)
removes that image's workloads there. The read API reads the table (``services/api/store``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import msgspec

from services.common.store._errors import translated

__all__ = ["WorkloadSighting", "WorkloadWrites"]


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


_UPSERT: Final = """
INSERT INTO image_workloads AS w (digest, environment, namespace, workload_kind, workload, container,
                                  repository, pod_count)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::int[])
ON CONFLICT (digest, environment, namespace, workload_kind, workload, container) DO UPDATE SET
    repository = EXCLUDED.repository, pod_count = EXCLUDED.pod_count, last_seen = now()
"""


class WorkloadWrites:
    """The statements on an asyncpg pool: ``WorkloadWrites(store.pool)``."""

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
