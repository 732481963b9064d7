"""One refresh: update the working copy from the sources, and store it as a build if it changed.

The working copy (``<work_dir>/vulndb.sqlite``) is updated in place by ``update_db``, so an
unchanged OSV export is not downloaded or read again. A replica that starts without one (a new
pod) first copies the newest stored build, so even its first refresh is incremental.

A changed database becomes build ``<built_at>-<sha256[:16]>``: the file goes to the object store
under ``advisories/<build_id>/vulndb.sqlite`` *before* its ``advisory_builds`` row, so a recorded
build is always there to download. Unchanged sources only move the newest build's ``checked_at``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from services.common.errors import ConfigError, VulnDBError
from services.common.objectstore import ObjectStore
from services.common.store.builds import AdvisoryBuild, Builds
from services.vulndb import kev
from services.vulndb.ingest import update_db
from services.vulndb.sources import is_url

if TYPE_CHECKING:
    from services.settings import Settings

__all__ = ["Refreshed", "UpdaterPlan", "build_key", "refresh"]

log = logging.getLogger(__name__)


class UpdaterPlan(msgspec.Struct, frozen=True, kw_only=True):
    """What the updater reads and where it works, from ``Settings`` (``plan_from``)."""

    source: str
    kev: str | None = None
    epss: str | None = None
    cvss: str | None = None
    work_dir: Path
    interval_s: float = 21600.0
    nvd_api_key: str = ""  # ASSAY_DB_NVD_API_KEY; never logged

    @property
    def work_db(self) -> Path:
        return self.work_dir / "vulndb.sqlite"

    def sources(self) -> list[str]:
        """What a build is made of, as ``"<kind>:<location>"``."""
        pairs = (("osv", self.source), ("kev", self.kev), ("epss", self.epss), ("cvss", self.cvss))
        return [f"{kind}:{where}" for kind, where in pairs if where]

    @classmethod
    def from_settings(cls, settings: Settings) -> UpdaterPlan:
        """The plan ``settings`` describe (``ConfigError`` on a bad interval)."""
        cfg = settings.updater
        if cfg.interval_s <= 0:
            raise ConfigError(f"ASSAY_UPDATER_INTERVAL_S: must be positive, not {cfg.interval_s}")
        source = cfg.source or settings.db.source
        default_kev = kev.DEFAULT_URL if is_url(source) else None  # online anyway: take CISA's catalog
        return cls(
            source=source,
            kev=cfg.kev_source or default_kev,
            epss=cfg.epss_source or None,
            cvss=cfg.cvss_source or None,
            work_dir=Path(cfg.work_dir) if cfg.work_dir else settings.effective_data_dir / "updater",
            interval_s=cfg.interval_s,
            nvd_api_key=settings.db.nvd_api_key,
        )


class Refreshed(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of one refresh: the newest build and whether this refresh made it."""

    build: AdvisoryBuild
    new: bool


def build_key(build_id: str) -> str:
    """The object key of a build's database file."""
    return f"advisories/{build_id}/vulndb.sqlite"


def _sha256(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


async def _seed(plan: UpdaterPlan, builds: Builds, objects: ObjectStore) -> None:
    """Start from the newest stored build when this replica has no working copy yet."""
    if plan.work_db.exists():
        return
    latest = await builds.latest()
    if latest is None:
        return
    data = await objects.get(latest.object_key)
    if data is None or hashlib.sha256(data).hexdigest() != latest.sha256:
        log.warning("updater: build %s is not usable as a starting point; building anew", latest.build_id)
        return
    plan.work_dir.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(plan.work_db.write_bytes, data)
    log.info("updater: starting from build %s", latest.build_id)


async def refresh(plan: UpdaterPlan, builds: Builds, objects: ObjectStore) -> Refreshed:
    """Update the working copy and store it as a new build when it changed (``VulnDBError`` when a
    source cannot be read: the working copy and the stored builds stay as they were)."""
    await _seed(plan, builds, objects)
    stats = await update_db(
        plan.source,
        plan.work_db,
        kev=plan.kev,
        epss=plan.epss,
        cvss=plan.cvss,
        progress=log.info,
        nvd_api_key=plan.nvd_api_key,
    )
    sha, size = await asyncio.to_thread(_sha256, plan.work_db)
    latest = await builds.latest()
    if latest is not None and latest.sha256 == sha:
        await builds.mark_checked(latest.build_id)
        log.info("updater: sources unchanged; build %s is current", latest.build_id)
        return Refreshed(build=latest, new=False)
    now = datetime.now(UTC).replace(microsecond=0)
    build_id = f"{now.strftime('%Y%m%dT%H%M%SZ')}-{sha[:16]}"
    key = build_key(build_id)
    data = await asyncio.to_thread(plan.work_db.read_bytes)
    if hashlib.sha256(data).hexdigest() != sha:
        raise VulnDBError(f"the working copy {plan.work_db} changed while it was being stored")
    await objects.put(key, data)
    build = AdvisoryBuild(
        build_id=build_id,
        object_key=key,
        sha256=sha,
        size_bytes=size,
        built_at=now,
        checked_at=now,
        sources=plan.sources(),
        advisories=stats.advisories,
    )
    await builds.record(build)
    log.info(
        "updater: stored build %s (%d advisories) at %s", build_id, stats.advisories, objects.describe(key)
    )
    return Refreshed(build=build, new=True)
