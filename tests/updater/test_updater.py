"""The advisory updater against real PostgreSQL, the real broker and a directory object store."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import msgspec
import pytest

from schemas.events import AdvisoryBuildPublished
from schemas.topics import Topics
from services.common.bus.kafka import KafkaBus
from services.common.errors import ConfigError
from services.common.objectstore import DirectoryObjectStore
from services.common.store.postgres import Store
from services.settings import load_settings
from services.updater.build import UpdaterPlan, build_key
from services.updater.service import UPDATER_LOCK, update_once
from services.vulndb.db import VulnDB
from tests.harness.requirements import require, shared_dir
from tests.pipeline.harness import read_topic
from tests.updater.conftest import make_due, write_osv


def _plan(source: Path, work: Path, interval_s: float = 3600.0) -> UpdaterPlan:
    settings = load_settings(
        environ={
            "ASSAY_DATA_DIR": str(work),
            "ASSAY_UPDATER_SOURCE": str(source),
            "ASSAY_UPDATER_INTERVAL_S": str(interval_s),
        }
    )
    return UpdaterPlan.from_settings(settings)


def _ids(path: Path) -> set[str]:
    with VulnDB.open(path) as db:
        return {r[0] for r in db._rows("SELECT DISTINCT id FROM advisories")}


async def _announced(kafka_servers: str, build_ids: set[str]) -> dict[str, AdvisoryBuildPublished]:
    events = await read_topic(kafka_servers, Topics.ADVISORIES, quiet_s=1.0)
    return {
        e.build_id: e for _, e in events if isinstance(e, AdvisoryBuildPublished) and e.build_id in build_ids
    }


async def test_a_refresh_stores_records_and_announces_a_build_and_a_newer_set_makes_another(
    store: Store,
    bus: KafkaBus,
    objects: DirectoryObjectStore,
    kafka_servers: str,
    debian_records: dict[str, dict[str, Any]],
    tmp_path: Path,
) -> None:
    ids = sorted(debian_records)[:40]
    older, newer = ids[:30], ids[10:]  # the newer set withdraws ten and adds ten
    source = tmp_path / "osv"
    write_osv(source, [debian_records[i] for i in older])
    plan = _plan(source, tmp_path / "work", interval_s=0.5)

    assert await update_once(plan, bus, store, objects) == 0.5
    first = await store.builds.latest()
    assert first is not None
    assert first.published
    assert first.object_key == build_key(first.build_id)
    data = await objects.get(first.object_key)
    assert data is not None
    assert hashlib.sha256(data).hexdigest() == first.sha256
    (tmp_path / "first.sqlite").write_bytes(data)
    assert _ids(tmp_path / "first.sqlite") == set(older)
    assert first.sources == [f"osv:{source}"]
    assert first.advisories == 30

    # within the interval nothing is refreshed; after it, unchanged sources only move checked_at
    assert 0 < await update_once(plan, bus, store, objects) <= 0.5
    await asyncio.sleep(0.6)
    await update_once(plan, bus, store, objects)
    again = await store.builds.latest()
    assert again is not None
    assert again.build_id == first.build_id
    assert again.checked_at > first.checked_at

    await asyncio.sleep(0.6)
    write_osv(source, [debian_records[i] for i in newer])
    await update_once(plan, bus, store, objects)
    second = await store.builds.latest()
    assert second is not None
    assert second.build_id != first.build_id
    assert second.published
    data = await objects.get(second.object_key)
    assert data is not None
    (tmp_path / "second.sqlite").write_bytes(data)
    assert _ids(tmp_path / "second.sqlite") == set(newer)

    announced = await _announced(kafka_servers, {first.build_id, second.build_id})
    assert set(announced) == {first.build_id, second.build_id}
    assert announced[second.build_id].sha256 == second.sha256
    assert announced[second.build_id].object_key == second.object_key


async def test_only_the_lock_holder_refreshes_and_a_new_replica_starts_from_the_stored_build(
    store: Store,
    bus: KafkaBus,
    objects: DirectoryObjectStore,
    debian_records: dict[str, dict[str, Any]],
    tmp_path: Path,
) -> None:
    source = tmp_path / "osv"
    write_osv(source, [debian_records[i] for i in sorted(debian_records)[:20]])
    plan = _plan(source, tmp_path / "work-a")
    async with store.exclusive(UPDATER_LOCK) as held:
        assert held
        assert await update_once(plan, bus, store, objects) == 300.0  # another replica is active
        assert await store.builds.latest() is None
    await update_once(plan, bus, store, objects)
    built = await store.builds.latest()
    assert built is not None

    # a second replica (no working copy) when the build is due: it starts from the stored build,
    # finds the sources unchanged and makes no new build
    await make_due(store, "2 hours")
    other = _plan(source, tmp_path / "work-b")
    await update_once(other, bus, store, objects)
    assert other.work_db.is_file()
    latest = await store.builds.latest()
    assert latest is not None
    assert latest.build_id == built.build_id
    assert (await store.builds.now() - latest.checked_at).total_seconds() < 60


async def test_an_unreadable_source_keeps_the_stored_builds_and_retries(
    store: Store, bus: KafkaBus, objects: DirectoryObjectStore, tmp_path: Path
) -> None:
    plan = _plan(tmp_path / "missing", tmp_path / "work")
    assert await update_once(plan, bus, store, objects) == 300.0
    assert await store.builds.latest() is None


def test_the_updater_settings_come_from_assay_updater_variables(tmp_path: Path) -> None:
    assert load_settings(environ={}).updater.interval_s == 21600.0  # the seed's "every few hours"
    plan = _plan(tmp_path / "osv", tmp_path, interval_s=60)
    assert (plan.source, plan.kev, plan.interval_s) == (str(tmp_path / "osv"), None, 60.0)
    assert plan.work_db == tmp_path / "updater" / "vulndb.sqlite"
    online = UpdaterPlan.from_settings(load_settings(environ={}))
    assert online.source.startswith("https://")
    assert online.kev is not None
    with pytest.raises(ConfigError, match="ASSAY_UPDATER_INTERVAL_S"):
        _plan(tmp_path, tmp_path, interval_s=0)
    with_cvss = _plan(tmp_path / "osv", tmp_path, interval_s=60)
    assert msgspec.structs.replace(with_cvss, cvss="cves/").sources() == [
        f"osv:{tmp_path / 'osv'}",
        "cvss:cves/",
    ]


async def test_a_build_carries_the_kev_and_cvss_sources_it_was_configured_with(
    store: Store,
    bus: KafkaBus,
    objects: DirectoryObjectStore,
    debian_records: dict[str, dict[str, Any]],
    tmp_path: Path,
) -> None:
    kev = shared_dir() / "kev" / "known_exploited_vulnerabilities.json"
    cves = shared_dir() / "cvelist" / "cves"
    require(kev.is_file() and cves.is_dir(), "../shared/kev and ../shared/cvelist are needed")
    source = tmp_path / "osv"
    write_osv(source, [debian_records[i] for i in sorted(debian_records)[:10]])
    plan = msgspec.structs.replace(_plan(source, tmp_path), kev=str(kev), cvss=str(cves))
    await update_once(plan, bus, store, objects)
    build = await store.builds.latest()
    assert build is not None
    assert build.sources == [f"osv:{source}", f"kev:{kev}", f"cvss:{cves}"]
    data = await objects.get(build.object_key)
    assert data is not None
    (tmp_path / "build.sqlite").write_bytes(data)
    with VulnDB.open(tmp_path / "build.sqlite") as db:
        meta = db.meta()
    assert int(meta["kev"]) > 1000
    assert int(meta.get("cvss", "0")) > 0
