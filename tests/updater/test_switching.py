"""Engines and policy switch advisory builds atomically, without a restart (services/vulndb/builds.py)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from schemas.events import AdvisoryBuildPublished
from services.common.bus.kafka import KafkaBus
from services.common.config import DataSettings
from services.common.errors import VulnDBError
from services.common.objectstore import DirectoryObjectStore
from services.common.store.postgres import Store
from services.engine.catalogers.registry import select
from services.engine.worker import EngineDeps
from services.settings import Settings
from services.updater.service import update_once
from services.vulndb.builds import BuildFollower, BuildHolder, open_followed
from tests.updater.conftest import make_due, updater_plan, write_osv


async def _build(
    store: Store, bus: KafkaBus, objects: DirectoryObjectStore, source: Path, work: Path
) -> AdvisoryBuildPublished:
    await make_due(store)  # the next refresh is due
    await update_once(updater_plan(source, work), bus, store, objects)
    announcement = await store.builds.latest_announcement()
    assert announcement is not None
    return announcement


def _exited_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _advisories(db: Any) -> set[str]:
    return {r[0] for r in db._rows("SELECT DISTINCT id FROM advisories")}


async def test_a_scan_keeps_its_build_while_new_ones_are_switched_in(
    store: Store,
    bus: KafkaBus,
    objects: DirectoryObjectStore,
    debian_records: dict[str, dict[str, Any]],
    tmp_path: Path,
) -> None:
    ids = sorted(debian_records)[:20]
    source = tmp_path / "osv"
    write_osv(source, [debian_records[i] for i in ids[:10]])
    one = await _build(store, bus, objects, source, tmp_path / "work")
    holder = BuildHolder(tmp_path / "cache", objects)
    follower = BuildFollower(holder, store.builds.latest_announcement)
    assert await follower.step()
    assert holder.build_id == one.build_id
    assert not await follower.step()  # the same build: nothing to do

    with holder.leased() as leased:
        assert leased is not None
        db, build = leased
        assert build == one.build_id
        write_osv(source, [debian_records[i] for i in ids[10:]])
        two = await _build(store, bus, objects, source, tmp_path / "work")
        assert await follower.step()
        assert holder.build_id == two.build_id
        # the scan in flight still reads the build it started with, open and whole
        assert _advisories(db) == set(ids[:10])
        with holder.lease() as current:
            assert current is not None
            assert _advisories(current) == set(ids[10:])
    with pytest.raises(sqlite3.ProgrammingError):
        db._conn.execute("SELECT 1")  # let go once its last lease ended
    assert len(list((tmp_path / "cache").glob("*.sqlite"))) == 1  # and its downloaded copy removed

    # the engine's scans lease from the holder (services/engine/worker.py)
    deps = EngineDeps(settings=Settings(), catalogers=select(), vulndb=None, advisories=holder)
    with deps.advisory_db() as scanning:
        assert scanning is not None
        assert _advisories(scanning) == set(ids[10:])


async def test_a_build_whose_object_does_not_match_its_announcement_is_refused(
    objects: DirectoryObjectStore, vuln_db: Path, tmp_path: Path
) -> None:
    data = await asyncio.to_thread(vuln_db.read_bytes)
    await objects.put("advisories/b1/vulndb.sqlite", data)
    good = AdvisoryBuildPublished(
        build_id="b1",
        object_key="advisories/b1/vulndb.sqlite",
        sha256=hashlib.sha256(data).hexdigest(),
        built_at="2026-01-01T00:00:00Z",
    )
    cache = tmp_path / "cache"
    cache.mkdir()
    pid = await asyncio.to_thread(_exited_pid)
    (cache / f"vulndb-0123456789abcdef01234567-{pid}.sqlite").write_bytes(b"left by a killed engine")
    holder = BuildHolder(cache, objects)
    assert await holder.switch(good)
    assert [p.name.rsplit("-", 1)[-1] for p in cache.glob("*.sqlite")] == [f"{os.getpid()}.sqlite"]
    tampered = msgspec.structs.replace(good, build_id="b2", sha256="0" * 64)
    with pytest.raises(VulnDBError, match="SHA-256"):
        await holder.switch(tampered)
    missing = msgspec.structs.replace(good, build_id="b3", object_key="advisories/b3/vulndb.sqlite")
    with pytest.raises(VulnDBError, match="missing"):
        await holder.switch(missing)
    assert holder.build_id == "b1"  # the current build stays


async def test_without_an_updater_the_local_database_file_is_followed(vuln_db: Path, tmp_path: Path) -> None:
    local = tmp_path / "data" / "vuln.db"
    settings = Settings(data=DataSettings(dir=str(tmp_path / "data")))
    follower = await open_followed(settings, None, None, "engine")
    assert follower.holder.build_id is None  # no database yet: scans run without matching
    local.parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(shutil.copyfile, vuln_db, local)
    assert await follower.step()
    with follower.holder.lease() as db:
        assert db is not None
        assert db.path == local
    follower.holder.close()


async def test_an_engine_waits_for_the_first_build_before_it_scans(
    objects: DirectoryObjectStore, vuln_db: Path, tmp_path: Path
) -> None:
    """A new install: engines start before the updater stored its first build. ``first`` holds the
    engine back (it does not consume scan requests) until a build can be loaded, or until stop."""
    data = await asyncio.to_thread(vuln_db.read_bytes)
    build = AdvisoryBuildPublished(
        build_id="b1",
        object_key="advisories/b1/vulndb.sqlite",
        sha256=hashlib.sha256(data).hexdigest(),
        built_at="2026-01-01T00:00:00Z",
    )
    announced: list[AdvisoryBuildPublished] = []

    async def latest() -> AdvisoryBuildPublished | None:
        return announced[-1] if announced else None

    follower = BuildFollower(BuildHolder(tmp_path / "cache", objects), latest)
    waiting = asyncio.create_task(follower.first(asyncio.Event(), poll_s=0.05))
    await asyncio.sleep(0.3)
    assert not waiting.done()  # nothing to scan with yet
    await objects.put(build.object_key, data)
    announced.append(build)
    await asyncio.wait_for(waiting, timeout=10)
    assert follower.holder.build_id == "b1"
    follower.holder.close()

    stop = asyncio.Event()
    never = BuildFollower(BuildHolder(tmp_path / "cache2", objects), _none)
    stopped = asyncio.create_task(never.first(stop, poll_s=0.05))
    stop.set()
    await asyncio.wait_for(stopped, timeout=10)  # a stop ends the wait
    assert never.holder.build_id is None


async def _none() -> AdvisoryBuildPublished | None:
    return None
