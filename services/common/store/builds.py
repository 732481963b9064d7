"""Advisory database builds (``advisory_builds``) and engine analysis versions (``analysis_versions``).

The updater records each build it stores in the object store, then marks it published once its
``AdvisoryBuildPublished`` is on the bus; engines and policy ask for the newest build at start;
the read API reports the current build and its age. ``checked_at`` moves forward each time the
updater finds its sources unchanged, so the data's age is the time since the last successful
refresh, not since the last change upstream.

The engine records the analysis version it computes from its analyzers and rules at start-up;
dedupe and ``assay rescan`` read the most recently recorded one (migration 0006).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from schemas.events import AdvisoryBuildPublished
from services.common.clock import rfc3339
from services.common.store._errors import translated

__all__ = ["STALE_ID", "SYSTEM_DIGEST", "AdvisoryBuild", "Builds", "rfc3339"]

SYSTEM_DIGEST = "assay:system"  # the pseudo-image the system's own findings are recorded on
STALE_ID = "advisory-data-stale"  # its finding when the advisory data is older than two intervals

_SOURCES = msgspec.json.Decoder(list[str])


class AdvisoryBuild(msgspec.Struct, frozen=True, kw_only=True):
    """One stored advisory database build."""

    build_id: str
    object_key: str
    sha256: str
    built_at: datetime
    checked_at: datetime
    size_bytes: int = 0
    sources: list[str] = []
    advisories: int = 0
    published: bool = False

    def announcement(self, published_at: str = "") -> AdvisoryBuildPublished:
        """The ``AdvisoryBuildPublished`` that names this build."""
        return AdvisoryBuildPublished(
            build_id=self.build_id,
            object_key=self.object_key,
            sha256=self.sha256,
            built_at=rfc3339(self.built_at),
            size_bytes=self.size_bytes,
            sources=list(self.sources),
            advisories=self.advisories,
            published_at=published_at,
        )


_COLUMNS = (
    "build_id, object_key, sha256, size_bytes, built_at, checked_at, sources::text AS sources, "
    "advisories, published_at IS NOT NULL AS published"
)


def _build(r: Any) -> AdvisoryBuild:
    return AdvisoryBuild(
        build_id=r["build_id"],
        object_key=r["object_key"],
        sha256=r["sha256"],
        size_bytes=r["size_bytes"],
        built_at=r["built_at"],
        checked_at=r["checked_at"],
        sources=_SOURCES.decode(r["sources"]),
        advisories=r["advisories"],
        published=r["published"],
    )


class Builds:
    """The statements on an asyncpg pool; get one from ``Store.builds``."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def record(self, build: AdvisoryBuild) -> None:
        """Record a build stored in the object store (a replay of the same id changes nothing)."""
        with translated(f"record advisory build {build.build_id}"):
            await self._pool.execute(
                """
                INSERT INTO advisory_builds
                    (build_id, object_key, sha256, size_bytes, built_at, checked_at, sources, advisories)
                VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8)
                ON CONFLICT (build_id) DO NOTHING
                """,
                build.build_id,
                build.object_key,
                build.sha256,
                build.size_bytes,
                build.built_at,
                build.checked_at,
                msgspec.json.encode(build.sources).decode(),
                build.advisories,
            )

    async def mark_published(self, build_id: str) -> None:
        """Its ``AdvisoryBuildPublished`` is on the bus."""
        with translated(f"mark advisory build {build_id} published"):
            await self._pool.execute(
                "UPDATE advisory_builds SET published_at = now()"
                " WHERE build_id = $1 AND published_at IS NULL",
                build_id,
            )

    async def mark_checked(self, build_id: str) -> None:
        """The updater found its sources unchanged: the data in ``build_id`` is current as of now."""
        with translated(f"mark advisory build {build_id} checked"):
            await self._pool.execute(
                "UPDATE advisory_builds SET checked_at = now() WHERE build_id = $1", build_id
            )

    async def latest(self) -> AdvisoryBuild | None:
        """The newest build (published or not), or None before the first one."""
        with translated("read the latest advisory build"):
            row = await self._pool.fetchrow(
                f"SELECT {_COLUMNS} FROM advisory_builds ORDER BY built_at DESC, recorded_at DESC LIMIT 1"
            )
        return _build(row) if row is not None else None

    async def latest_announcement(self) -> AdvisoryBuildPublished | None:
        """The newest build as its announcement (what engines and policy load), or None."""
        latest = await self.latest()
        return latest.announcement() if latest is not None else None

    async def get(self, build_id: str) -> AdvisoryBuild | None:
        """One build by id."""
        with translated(f"read advisory build {build_id}"):
            row = await self._pool.fetchrow(
                f"SELECT {_COLUMNS} FROM advisory_builds WHERE build_id = $1", build_id
            )
        return _build(row) if row is not None else None

    async def now(self) -> datetime:
        """The database's clock (ages are measured against it, whatever the local clock says)."""
        with translated("read the database clock"):
            value: datetime = await self._pool.fetchval("SELECT now()")
        return value

    async def record_analysis_version(self, version: str) -> None:
        """An engine configured to produce ``version`` started."""
        with translated(f"record analysis version {version}"):
            await self._pool.execute(
                """
                INSERT INTO analysis_versions (version) VALUES ($1)
                ON CONFLICT (version) DO UPDATE SET last_seen = now()
                """,
                version,
            )

    async def analysis_version(self) -> str | None:
        """The analysis version an engine recorded most recently, or None before any engine started."""
        with translated("read the analysis version"):
            value: str | None = await self._pool.fetchval(
                "SELECT version FROM analysis_versions ORDER BY last_seen DESC, version LIMIT 1"
            )
        return value
