"""``Store``: the asyncpg-backed state of Assay (images, environments, scans, findings).

Every method is one short transaction (or a single statement) and is safe to call from
several instances of a service at once. Failures raise ``StoreError``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from schemas.vocabulary import IMAGE_STATUSES, ImageStatus
from services.common.errors import StoreError
from services.common.store._errors import translated
from services.common.store.assignments import Assignments
from services.common.store.builds import Builds
from services.common.store.migrate import migrate

__all__ = ["Store"]


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
        if status not in IMAGE_STATUSES:
            raise StoreError(f"unknown image status {status!r} (one of {sorted(IMAGE_STATUSES)})")
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

    async def environments(self, digest: str) -> list[str]:
        """The environments ``digest`` was seen in, sorted."""
        with translated(f"read the environments of {digest}"):
            records = await self._pool.fetch(
                "SELECT DISTINCT environment FROM image_environments WHERE digest = $1 ORDER BY 1",
                digest,
            )
        return [r["environment"] for r in records]

    @property
    def pool(self) -> Any:
        """The asyncpg pool, for each service's own statements (``Claims(store.pool)``, ...)."""
        return self._pool

    @property
    def builds(self) -> Builds:
        """Advisory database builds and engine analysis versions (``store/builds.py``)."""
        return Builds(self._pool)

    @property
    def assignments(self) -> Assignments:
        """Ruleset assignments, which policy and the admission gate share (``store/assignments.py``)."""
        return Assignments(self._pool)

    @contextlib.asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[bool]:
        """Try a session advisory lock named ``name`` on a connection of its own; yields whether it
        was taken (only one holder across every replica), and releases it at the end."""
        with translated(f"take lock {name}"):
            conn = await self._pool.acquire()
        try:
            with translated(f"take lock {name}"):
                got = bool(await conn.fetchval("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", name))
            try:
                yield got
            finally:
                if got:
                    with translated(f"release lock {name}"):
                        await conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", name)
        finally:
            await self._pool.release(conn)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value
