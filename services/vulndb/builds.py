"""The advisory database a process matches against, switched to newer builds without a restart.

The updater (``services/updater``) stores each build in the object store and announces it with an
``AdvisoryBuildPublished``. A ``BuildHolder`` downloads the named object into its cache
directory, checks its SHA-256, opens it, and swaps it in as one reference assignment: a scan
takes a *lease* on the database when it starts (``with holder.lease() as db``) and keeps that
build to its end, whatever is announced meanwhile; the build a lease no longer names is closed
(and its file removed) once its last lease ends.

A ``BuildFollower`` keeps a holder on the newest build recorded in PostgreSQL; where no updater
has recorded one (``assay up`` with ``assay db update``) it follows the local database file
instead, reopening it when its inode, mtime or size changes (the update replaces it atomically).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from schemas.events import AdvisoryBuildPublished
from services.common.errors import VulnDBError
from services.common.files import left_by_a_dead_process, write_atomic
from services.common.objectstore import DirectoryObjectStore, ObjectStore, object_store_for
from services.vulndb.db import VulnDB

if TYPE_CHECKING:
    from services.settings import Settings

__all__ = [
    "BuildFollower",
    "BuildHolder",
    "LatestBuild",
    "advisory_objects",
    "file_build_id",
    "file_stamp",
    "open_followed",
    "wait_for_any",
]

if TYPE_CHECKING:
    from services.common.aws import AwsClients

log = logging.getLogger(__name__)

LatestBuild = Callable[[], Awaitable[AdvisoryBuildPublished | None]]
"""Answers the newest recorded build (the store's ``advisory_builds``), or None before the first."""


def file_build_id(db: VulnDB) -> str:
    """The id of a database not made by the updater: its ``built_at`` plus a hash of every meta row."""
    meta = db.meta()
    digest = hashlib.sha256(msgspec.json.encode(sorted(meta.items()))).hexdigest()[:16]
    return f"{meta.get('built_at', 'unknown')}/{digest}"


def _remove_orphans(cache_dir: Path) -> None:
    """Remove the copies left by processes that are gone (killed before they could let go)."""
    for path in cache_dir.glob("vulndb-*-*.sqlite"):
        if left_by_a_dead_process(path.stem.rsplit("-", 1)[-1]):
            path.unlink(missing_ok=True)


class _Entry:
    """One open build and the number of leases on it."""

    def __init__(self, db: VulnDB, build_id: str, owned_file: Path | None) -> None:
        self.db = db
        self.build_id = build_id
        self.owned_file = owned_file  # removed when the build is let go (a downloaded copy)
        self.leases = 0
        self.retired = False

    def release(self) -> None:
        self.db.close()
        if self.owned_file is not None:
            self.owned_file.unlink(missing_ok=True)


class BuildHolder:
    """The current advisory database of this process; thread-safe, shared by every scan."""

    def __init__(self, cache_dir: Path, objects: ObjectStore | None = None) -> None:
        self._cache_dir = cache_dir
        self._objects = objects
        self._lock = threading.Lock()
        self._entry: _Entry | None = None
        self._switching = asyncio.Lock()

    @property
    def build_id(self) -> str | None:
        """The id of the build new leases get, or None when no database is loaded."""
        entry = self._entry
        return entry.build_id if entry is not None else None

    @contextlib.contextmanager
    def leased(self) -> Iterator[tuple[VulnDB, str] | None]:
        """The current database and its build id for one unit of work (a scan, a rematch), kept
        open until the block ends; None when no database is loaded."""
        with self._lock:
            entry = self._entry
            if entry is not None:
                entry.leases += 1
        try:
            yield (entry.db, entry.build_id) if entry is not None else None
        finally:
            if entry is not None:
                with self._lock:
                    entry.leases -= 1
                    done = entry.retired and entry.leases == 0
                if done:
                    entry.release()

    @contextlib.contextmanager
    def lease(self) -> Iterator[VulnDB | None]:
        """The current database for one scan (see ``leased``); None when none is loaded."""
        with self.leased() as got:
            yield got[0] if got is not None else None

    def _swap(self, entry: _Entry | None) -> None:
        """Make ``entry`` current; the one it replaces is released now or by its last lease."""
        with self._lock:
            old, self._entry = self._entry, entry
            done = old is not None and old.leases == 0
            if old is not None:
                old.retired = True
        if done and old is not None:
            old.release()
        if entry is not None:
            log.info("advisory database: now build %s (%s)", entry.build_id, entry.db.path)

    async def switch(self, build: AdvisoryBuildPublished) -> bool:
        """Load ``build`` from the object store and make it current; False if it already is.

        Raises ``VulnDBError`` when the object is missing, its SHA-256 differs from the
        announcement or it is not a database this Assay reads; the current build then stays.
        """
        async with self._switching:
            if self.build_id == build.build_id:
                return False
            if self._objects is None:
                raise VulnDBError(
                    f"advisory build {build.build_id} announced but no object store is configured"
                )
            data = await self._objects.get(build.object_key)
            if data is None:
                where = self._objects.describe(build.object_key)
                raise VulnDBError(f"advisory build {build.build_id}: {where} is missing")
            path = await asyncio.to_thread(self._write, build, data)
            try:
                db = await asyncio.to_thread(VulnDB.open, path)
            except VulnDBError:
                path.unlink(missing_ok=True)
                raise
            self._swap(_Entry(db, build.build_id, path))
            return True

    def _write(self, build: AdvisoryBuildPublished, data: bytes) -> Path:
        actual = hashlib.sha256(data).hexdigest()
        if actual != build.sha256:
            raise VulnDBError(
                f"advisory build {build.build_id}: {build.object_key} has SHA-256 {actual}, "
                f"the announcement says {build.sha256}"
            )
        self._cache_dir.mkdir(parents=True, exist_ok=True)
        _remove_orphans(self._cache_dir)
        # one file per build and process: processes sharing a data directory (``assay up``) never
        # write or remove each other's copy
        safe = hashlib.sha256(build.build_id.encode()).hexdigest()[:24]
        path = self._cache_dir / f"vulndb-{safe}-{os.getpid()}.sqlite"
        write_atomic(path, data, prefix=".download-")
        return path

    async def open_file(self, path: Path) -> bool:
        """Make the database at ``path`` current (not removed when let go); False if its build already is."""
        async with self._switching:
            db = await asyncio.to_thread(VulnDB.open, path)
            build_id = await asyncio.to_thread(file_build_id, db)
            if build_id == self.build_id:
                db.close()
                return False
            self._swap(_Entry(db, build_id, None))
            return True

    def close(self) -> None:
        """Let the current build go (when its last lease ends)."""
        self._swap(None)


def file_stamp(path: Path) -> tuple[int, int, int] | None:
    """The (inode, mtime, size) of ``path``, or None when it is not there."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class BuildFollower:
    """Keeps a holder on the newest build: the one ``latest`` answers, or else ``fallback`` (a local
    database file, reopened whenever ``assay db update`` replaced it)."""

    def __init__(self, holder: BuildHolder, latest: LatestBuild, fallback: Path | None = None) -> None:
        self.holder = holder
        self._latest = latest
        self._fallback = fallback
        self._seen_file: tuple[int, int, int] | None = None

    async def step(self) -> bool:
        """One look; True when the holder switched. A build that cannot be loaded is logged and the
        current one kept (the next look tries again)."""
        try:
            build = await self._latest()
            if build is not None:
                return await self.holder.switch(build)
            stamp = file_stamp(self._fallback) if self._fallback is not None else None
            if self._fallback is None or stamp is None or stamp == self._seen_file:
                return False
            switched = await self.holder.open_file(self._fallback)
            self._seen_file = stamp
            return switched
        except VulnDBError as exc:
            log.error("advisory database: %s; keeping build %s", exc, self.holder.build_id)
            return False

    async def first(self, stop: asyncio.Event, *, poll_s: float = 5.0) -> None:
        """Until the holder has a database (or ``stop``): an engine scanning before the first build
        is stored would find no vulnerability at all (a new install, the updater still building)."""
        if self.holder.build_id is None and not stop.is_set():
            log.warning("advisory database: waiting for the first build (the updater's) before scanning")
        while self.holder.build_id is None and not stop.is_set():
            await wait_for_any(stop, None, timeout_s=poll_s)
            await self.step()

    async def run(self, stop: asyncio.Event, *, interval_s: float, wake: asyncio.Event | None = None) -> None:
        """``step`` at once, then every ``interval_s`` or when ``wake`` is set, until ``stop``."""
        while not stop.is_set():
            if wake is not None:
                wake.clear()
            await self.step()
            await wait_for_any(stop, wake, timeout_s=interval_s)


async def wait_for_any(stop: asyncio.Event, wake: asyncio.Event | None, *, timeout_s: float) -> None:
    """Return when ``stop`` or ``wake`` is set, or after ``timeout_s``."""
    waiters = [asyncio.ensure_future(e.wait()) for e in (stop, wake) if e is not None]
    try:
        await asyncio.wait(waiters, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waiters:
            task.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)


async def advisory_objects(settings: Settings, clients: AwsClients | None) -> ObjectStore:
    """Where advisory builds live: the configured object store (S3 when ``aws.s3_bucket`` is set,
    else ``object_store_dir``), or else the directory ``<data_dir>/objects`` (one machine)."""
    configured = await object_store_for(settings, clients)
    return configured or DirectoryObjectStore(settings.effective_data_dir / "objects")


async def _no_build() -> AdvisoryBuildPublished | None:
    return None


async def open_followed(
    settings: Settings, latest: LatestBuild | None, clients: AwsClients | None, service: str
) -> BuildFollower:
    """A follower of the newest build for ``service`` (its own cache directory), after a first look:
    ``latest`` reads the recorded builds (None without PostgreSQL: the local file only)."""
    holder = BuildHolder(
        settings.effective_data_dir / "advisory-builds" / service, await advisory_objects(settings, clients)
    )
    follower = BuildFollower(holder, latest or _no_build, settings.effective_db_path)
    await follower.step()
    if holder.build_id is None:
        log.warning(
            "%s: no advisory build recorded and no database at %s yet", service, settings.effective_db_path
        )
    return follower
