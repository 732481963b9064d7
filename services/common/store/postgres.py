"""``Store``: the asyncpg-backed state of Assay (images, environments, scans, findings).

Every method is one short transaction (or a single statement) and is safe to call from
several instances of a service at once. Failures raise ``StoreError``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

import asyncpg

from schemas import Finding
from services.common.errors import StoreError
from services.common.store._errors import translated
from services.common.store.builds import Builds
from services.common.store.claims import Claims
from services.common.store.findings import LIFECYCLE_SELECT, Lifecycle, row_finding
from services.common.store.migrate import migrate
from services.common.store.queries import Reads
from services.common.store.workloads import Workloads

__all__ = ["ImageStatus", "Store"]

ImageStatus = Literal["pending", "scanning", "scanned", "failed", "too_large"]

_STATUSES: frozenset[str] = frozenset(get_args(ImageStatus))

_LIFECYCLE_SELECT = LIFECYCLE_SELECT

_SEVERITY_ORDER = """
CASE upper(severity) WHEN 'CRITICAL' THEN 0 WHEN 'HIGH' THEN 1 WHEN 'MEDIUM' THEN 2
                     WHEN 'LOW' THEN 3 ELSE 4 END
"""


class Store:
    """The PostgreSQL store. Make one with ``await Store.connect(dsn)``; ``close()`` it at exit."""

    def __init__(self, pool: Any) -> None:
        """Wrap an open asyncpg pool; prefer ``Store.connect``."""
        self._pool = pool

    @classmethod
    async def connect(cls, dsn: str, *, min_size: int = 1, max_size: int = 10) -> Store:
        """Open a connection pool on ``dsn`` and bring the schema up to date."""
        with translated("connect to PostgreSQL"):
            pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size)
        try:
            with translated("migrate the database"):
                async with pool.acquire() as conn:
                    await migrate(conn)
        except BaseException:
            await pool.close()
            raise
        return cls(pool)

    async def close(self) -> None:
        """Close the pool, waiting for the connections in use to be released."""
        with translated("close the PostgreSQL pool"):
            await self._pool.close()

    async def unlink_image(self, *, digest: str, environment: str, repository: str) -> int:
        """Forget that ``digest`` runs in ``environment`` under ``repository``; the number of links removed.

        The image, its scans and findings stay: the same digest may still live elsewhere,
        and a later sighting links it again.
        """
        with translated(f"unlink image {digest} from {environment}"):
            result = await self._pool.execute(
                "DELETE FROM image_environments WHERE digest = $1 AND environment = $2 AND repository = $3",
                digest,
                environment,
                repository,
            )
        return int(result.rsplit(" ", 1)[-1])

    async def set_status(
        self, digest: str, status: ImageStatus, *, scan_id: str | None = None, error: str | None = None
    ) -> None:
        """Set an image's status (creating the row for an image never claimed, e.g. ``assay scan``).

        ``scan_id`` is kept when not given; ``error`` is replaced (None clears it);
        ``scanned_at`` is set when the status becomes ``scanned``.
        """
        if status not in _STATUSES:
            raise StoreError(f"unknown image status {status!r} (one of {sorted(_STATUSES)})")
        with translated(f"set the status of {digest}"):
            await self._pool.execute(
                """
                INSERT INTO images (digest, status, scan_id, error, scanned_at)
                VALUES ($1, $2, $3, $4, CASE WHEN $2 = 'scanned' THEN now() END)
                ON CONFLICT (digest) DO UPDATE SET
                    status = EXCLUDED.status,
                    scan_id = COALESCE(EXCLUDED.scan_id, images.scan_id),
                    error = EXCLUDED.error,
                    scanned_at = COALESCE(EXCLUDED.scanned_at, images.scanned_at),
                    updated_at = now()
                """,
                digest,
                status,
                scan_id,
                error,
            )

    async def save_scan(
        self,
        scan_id: str,
        digest: str,
        image_json: bytes | str,
        packages_json: bytes | str,
        unknowns_json: bytes | str,
        analyzer_version: str,
        *,
        packages_ref: str = "",
    ) -> None:
        """Keep a scan's image description, package inventory and unknowns; a replay is a no-op.

        ``packages_ref``: the object-store key holding the inventory (``packages`` is then ``[]``).
        """
        with translated(f"save scan {scan_id}"):
            await self._pool.execute(
                """
                INSERT INTO scans (scan_id, digest, analyzer_version, image, packages, unknowns, packages_ref)
                VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7)
                ON CONFLICT (scan_id) DO NOTHING
                """,
                scan_id,
                digest,
                analyzer_version,
                _text(image_json),
                _text(packages_json),
                _text(unknowns_json),
                packages_ref,
            )

    async def findings(self, digest: str | None = None, *, include_resolved: bool = False) -> list[Finding]:
        """The stored findings, of one image or of all, most severe first (resolved ones on request)."""
        with translated("read findings"):
            records = await self._pool.fetch(
                f"""
                SELECT {_LIFECYCLE_SELECT} FROM findings
                WHERE ($1::text IS NULL OR digest = $1) AND ($2 OR state <> 'resolved')
                ORDER BY digest, {_SEVERITY_ORDER}, vuln_id, package_name, finding_id
                """,
                digest,
                include_resolved,
            )
        return [row_finding(r) for r in records]

    async def images(self) -> list[dict[str, Any]]:
        """Every known image with its status and environments.

        Keys: digest, image_ref, status, error, scan_id, first_seen, updated_at, scanned_at,
        requested_at, published_at (ISO 8601 strings or None), scannable, scan_generation,
        request_reason, environments and ous (sorted, distinct).
        """
        with translated("read images"):
            records = await self._pool.fetch(
                """
                SELECT i.digest, i.image_ref, i.status, i.error, i.scan_id,
                       i.first_seen, i.updated_at, i.scanned_at, i.requested_at, i.published_at,
                       i.scannable, i.scan_generation, i.request_reason,
                       COALESCE(array_agg(DISTINCT e.environment ORDER BY e.environment)
                                FILTER (WHERE e.environment IS NOT NULL), '{}') AS environments,
                       COALESCE(array_agg(DISTINCT e.ou ORDER BY e.ou)
                                FILTER (WHERE e.ou <> ''), '{}') AS ous
                FROM images i LEFT JOIN image_environments e ON e.digest = i.digest
                GROUP BY i.digest
                ORDER BY i.first_seen, i.digest
                """
            )
        return [
            {
                "digest": r["digest"],
                "image_ref": r["image_ref"],
                "status": r["status"],
                "error": r["error"],
                "scan_id": r["scan_id"],
                "first_seen": _iso(r["first_seen"]),
                "updated_at": _iso(r["updated_at"]),
                "scanned_at": _iso(r["scanned_at"]),
                "requested_at": _iso(r["requested_at"]),
                "published_at": _iso(r["published_at"]),
                "scannable": r["scannable"],
                "scan_generation": r["scan_generation"],
                "request_reason": r["request_reason"],
                "environments": list(r["environments"]),
                "ous": list(r["ous"]),
            }
            for r in records
        ]

    async def environments(self, digest: str) -> list[str]:
        """The environments ``digest`` was seen in, sorted."""
        with translated(f"read the environments of {digest}"):
            records = await self._pool.fetch(
                "SELECT DISTINCT environment FROM image_environments WHERE digest = $1 ORDER BY 1",
                digest,
            )
        return [r["environment"] for r in records]

    @property
    def claims(self) -> Claims:
        """Dedupe's scan claims, sweeps and rescans over the same pool (``store/claims.py``)."""
        return Claims(self._pool)

    @property
    def pool(self) -> Any:
        """The asyncpg pool, for the SQL modules beside this one (``links.py``)."""
        return self._pool

    @property
    def reads(self) -> Reads:
        """Filtered, paginated read-only queries over the same pool (``store/queries.py``)."""
        return Reads(self._pool)

    @property
    def workloads(self) -> Workloads:
        """Where images run inside clusters (``store/workloads.py``)."""
        return Workloads(self._pool)

    @property
    def builds(self) -> Builds:
        """Advisory database builds and engine analysis versions (``store/builds.py``)."""
        return Builds(self._pool)

    @property
    def lifecycle(self) -> Lifecycle:
        """The policy's finding lifecycle, ruleset assignments and state (``store/findings.py``)."""
        return Lifecycle(self._pool)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
