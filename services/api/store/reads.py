"""The API's read model: filtered, keyset-paginated images and findings, and workload context.

Used by the read API, the console, ``assay images`` / ``assay findings`` and ``assay status``.
Every query is one read-only statement. Pages are ordered by a unique key and continued from the
last row's key (keyset pagination), so concurrent inserts never make a page repeat or skip a row
that was there before the first page was read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import msgspec

from schemas.vocabulary import SEVERITIES
from services.api.scope import UNSCOPED, Scope
from services.api.store.environments import EnvironmentRow, environment_rows
from services.api.store.sql import finding_sql, image_sql
from services.api.store.views import (
    FindingFilter,
    FindingView,
    ImageFilter,
    ImageLocation,
    ImageView,
    Workload,
    WorkloadImage,
)
from services.common.clock import rfc3339
from services.common.store._errors import translated

__all__ = ["Reads"]


def _iso(value: datetime | None) -> str | None:
    return rfc3339(value) if value is not None else None


# Rows become views as stored, without a check against the vocabulary: the wire checked what the
# services stored, and rows older than the vocabulary (a severity spelled ``critical``) stay readable.
def _image_row(r: Any) -> ImageView:
    locations = msgspec.json.decode(r["locations"], type=list[ImageLocation])
    return ImageView(
        **{
            "digest": r["digest"],
            "image_ref": r["image_ref"],
            "status": r["status"],
            "error": r["error"],
            "scan_id": r["scan_id"],
            "first_seen": _iso(r["first_seen"]),
            "updated_at": _iso(r["updated_at"]),
            "scanned_at": _iso(r["scanned_at"]),
            "environments": sorted({loc.environment for loc in locations}),
            "ous": sorted({loc.ou for loc in locations if loc.ou}),
            "locations": locations,
            "finding_counts": msgspec.json.decode(r["counts"], type=dict[str, int]),
            "ruleset_counts": msgspec.json.decode(r["ruleset_counts"], type=dict[str, dict[str, int]]),
            "scannable": r["scannable"],
            "requested_at": _iso(r["requested_at"]),
            "request_reason": r["request_reason"],
            "scan_generation": r["scan_generation"],
            "size_bytes": r["size_bytes"],
        }
    )


_FINDING_COLUMNS: Final = tuple(
    f
    for f in FindingView.__struct_fields__
    if f not in ("id", "environments", "workloads", "first_seen", "last_seen")
)


class _Shared:
    """What many finding rows of one statement share, converted once: the workloads of each image
    (every finding of an image has the same) and each timestamp (every finding one evaluation stored
    has the same ``first_seen``/``last_seen``). A page of 10,000 findings spent most of its Python
    time converting the same values again."""

    def __init__(self) -> None:
        self._workloads: dict[str, list[Workload]] = {}
        self._stamps: dict[datetime, str] = {}

    def workloads(self, text: str) -> list[Workload]:
        found = self._workloads.get(text)
        if found is None:
            found = self._workloads[text] = msgspec.json.decode(text, type=list[Workload])
        return list(found)  # a list of its own per view; the frozen Workloads are shared

    def stamp(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        found = self._stamps.get(value)
        if found is None:
            found = self._stamps[value] = rfc3339(value)
        return found


def _finding_row(r: Any, shared: _Shared) -> FindingView:
    fields: dict[str, Any] = {name: r[name] for name in _FINDING_COLUMNS}
    fields.update(
        id=r["vuln_id"],
        cvss_score=float(r["cvss_score"]),
        epss=float(r["epss"]),
        first_seen=shared.stamp(r["first_seen"]),
        last_seen=shared.stamp(r["last_seen"]),
        environments=list(r["environments"]),
        workloads=shared.workloads(r["workloads"]),
    )
    return FindingView(**fields)


class Reads:
    """Read-only queries on an asyncpg pool: ``Reads(store.pool)``, or ``.scoped(scope)`` for a caller
    limited to some environments or OUs (``scope.py``): every query then answers within them."""

    def __init__(self, pool: Any, scope: Scope = UNSCOPED) -> None:
        self._pool, self._scope = pool, scope
        self._visible: frozenset[str] | None = None  # the scope resolved to environments, once

    @property
    def scope(self) -> Scope:
        """The scope these reads answer within."""
        return self._scope

    def scoped(self, scope: Scope) -> Reads:
        """These reads limited to ``scope`` (a new object per caller: it caches the resolved scope)."""
        return Reads(self._pool, scope)

    async def visible(self) -> frozenset[str] | None:
        """The environments the scope covers: its own, and those inventory or configuration put in
        one of its OUs; None when not limited."""
        if not self._scope.limited:
            return None
        if self._visible is None:
            found: set[str] = set(self._scope.environments)
            if self._scope.ous:
                with translated("resolve the caller's organisational units"):
                    rows = await self._pool.fetch(
                        "SELECT DISTINCT environment FROM image_environments WHERE ou = ANY($1::text[]) "
                        "UNION SELECT kind || ':' || name FROM environments WHERE ou = ANY($1::text[])",
                        list(self._scope.ous),
                    )
                found.update(r["environment"] for r in rows)
            self._visible = frozenset(found)
        return self._visible

    async def covers(self, environment: str) -> bool:
        """Whether the scope covers ``environment`` (always, when not limited)."""
        visible = await self.visible()
        return visible is None or environment in visible

    async def covers_assignment(self, kind: str, name: str) -> bool:
        """Whether the scope covers a ruleset assignment to environment or OU (``kind``) ``name``."""
        if kind == "ou":
            return not self._scope.limited or name in self._scope.ous
        return await self.covers(name)

    async def _within(self) -> list[str] | None:
        visible = await self.visible()
        return sorted(visible) if visible is not None else None

    @property
    def pool(self) -> Any:
        """The asyncpg pool, for the API's other routes (``services/api/links.py``)."""
        return self._pool

    async def ping(self) -> None:
        """Raise ``StoreError`` unless PostgreSQL answers."""
        with translated("reach PostgreSQL"):
            await self._pool.fetchval("SELECT 1")

    async def images(self, flt: ImageFilter) -> list[ImageView]:
        """Up to ``flt.limit`` images matching ``flt``, by digest, after ``flt.after``."""
        sql, args = image_sql(flt, await self._within())
        with translated("list images"):
            records = await self._pool.fetch(sql, *args)
        return [_image_row(r) for r in records]

    async def image(self, digest: str) -> ImageView | None:
        """One image by manifest digest, or None."""
        sql, args = image_sql(ImageFilter(digests=[digest], limit=1), await self._within())
        with translated(f"read image {digest}"):
            records = await self._pool.fetch(sql, *args)
        return _image_row(records[0]) if records else None

    async def findings(self, flt: FindingFilter) -> list[FindingView]:
        """Up to ``flt.limit`` findings matching ``flt``, most severe first, then by finding id."""
        if flt.min_severity is not None and flt.min_severity.upper() not in SEVERITIES:
            raise ValueError(f"unknown severity {flt.min_severity!r} (one of {', '.join(SEVERITIES)})")
        sql, args = finding_sql(flt, await self._within())
        with translated("list findings"):
            records = await self._pool.fetch(sql, *args)
        shared = _Shared()
        return [_finding_row(r, shared) for r in records]

    async def finding(self, finding_id: str) -> FindingView | None:
        """One finding by its stable id, or None."""
        sql, args = finding_sql(FindingFilter(finding_ids=[finding_id], limit=1), await self._within())
        with translated(f"read finding {finding_id}"):
            records = await self._pool.fetch(sql, *args)
        return _finding_row(records[0], _Shared()) if records else None

    async def workloads_of(self, digest: str) -> list[Workload]:
        """The workloads running ``digest``, by cluster, namespace, kind, name and container."""
        with translated(f"read the workloads of {digest}"):
            rows = await self._pool.fetch(
                """
                SELECT environment, namespace, workload_kind, workload, container, repository, pod_count,
                       last_seen
                FROM image_workloads WHERE digest = $1 AND ($2::text[] IS NULL OR environment = ANY($2))
                ORDER BY environment, namespace, workload_kind, workload, container
                """,
                digest,
                await self._within(),
            )
        return [
            Workload(
                cluster=r["environment"].removeprefix("cluster:"),
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

    async def images_of(self, *, cluster: str, namespace: str, kind: str, name: str) -> list[WorkloadImage]:
        """The images a workload runs (kind compared case-insensitively), by digest and container."""
        environment = f"cluster:{cluster.removeprefix('cluster:')}"
        if not await self.covers(environment):
            return []
        with translated(f"read the images of {kind}/{name} in {cluster}/{namespace}"):
            rows = await self._pool.fetch(
                """
                SELECT w.digest, i.image_ref, i.status, w.container, w.repository, w.pod_count, w.last_seen
                FROM image_workloads w JOIN images i ON i.digest = w.digest
                WHERE w.environment = $1 AND w.namespace = $2 AND lower(w.workload_kind) = lower($3)
                  AND w.workload = $4
                ORDER BY w.digest, w.container
                """,
                environment,
                namespace,
                kind,
                name,
            )
        return [WorkloadImage(**{**dict(r), "last_seen": _iso(r["last_seen"])}) for r in rows]

    async def environments(self) -> list[EnvironmentRow]:
        """Every environment known from sightings or configuration that the scope covers."""
        return await environment_rows(self._pool, await self._within())
