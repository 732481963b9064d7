"""Rematch on new advisories, end to end on real parts: the Debian fixture image, real Debian OSV
records from ../shared/vulndata, PostgreSQL and the broker.

An older advisory set is loaded and the image scanned and stored through the policy handler;
a newer set adding one vulnerability then yields a ``new`` finding on the broker without a
rescan (through the policy service's watcher path), and a set without one of the first
advisories yields a ``resolved`` event (through ``assay rematch``). Content detections stay.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from schemas.events import FindingEvent, ScanCompleted
from schemas.records import VulnMatch
from schemas.topics import ALL_TOPICS, Topics
from services.common.bus.kafka import KafkaBus
from services.common.config import DataSettings
from services.common.store import Store
from services.engine.catalogers.registry import select
from services.engine.content.registry import ContentAnalysis
from services.engine.content.settings import ContentSettings, LayerCacheSettings
from services.engine.core import detect
from services.engine.image.targets import parse_target
from services.policy.app import bus_publisher
from services.policy.catalog import load_rulesets
from services.policy.rematch import ADVISORY_BUILD_KEY, advisory_build, rematch_if_changed
from services.policy.service import make_policy_handler
from services.policy.store import Lifecycle, stored_findings
from services.settings import Settings
from services.vulndb.db import VulnDB
from services.vulndb.ingest import update_db
from services.vulndb.matcher import match_packages
from tests.harness.seed import sight
from tests.pipeline.harness import read_topic


def _records(vulndata: Path) -> dict[str, dict[str, Any]]:
    """Every Debian OSV record of the shared export, by id."""
    out = {}
    with zipfile.ZipFile(vulndata / "Debian" / "all.zip") as zf:
        for name in zf.namelist():
            if name.endswith(".json"):
                record = json.loads(zf.read(name))
                out[record["id"]] = record
    return out


def _pick(matches: list[VulnMatch], records: dict[str, dict[str, Any]]) -> list[tuple[VulnMatch, set[str]]]:
    """Three matches on three packages whose OSV records are disjoint (removing one's records
    cannot disturb another's)."""
    picked: list[tuple[VulnMatch, set[str]]] = []
    used: set[str] = set()
    packages: set[str] = set()
    for m in sorted(matches, key=lambda m: (m.package_name, m.vuln_id)):
        ids = {i for i in m.advisory_ids if i in records}
        if not ids or ids & used or m.package_name in packages:
            continue
        picked.append((m, ids))
        used |= ids
        packages.add(m.package_name)
        if len(picked) == 3:
            break
    assert len(picked) == 3, "the fixture should match at least three Debian advisories"
    return picked


def _write(folder: Path, records: list[dict[str, Any]]) -> None:
    folder.mkdir()
    for r in records:
        (folder / f"{r['id']}.json").write_text(json.dumps(r))


async def _build(db_path: Path, folder: Path, records: list[dict[str, Any]]) -> str:
    """A database of exactly ``records`` (an OSV JSON folder) at ``db_path``; its build id."""
    await asyncio.to_thread(_write, folder, records)
    await update_db(str(folder), db_path, full=True)
    db = VulnDB.open(db_path)
    try:
        return advisory_build(db)
    finally:
        db.close()


async def _scan(fixtures: Path, db: VulnDB | None, scan_id: str, data_dir: Path) -> ScanCompleted:
    settings = Settings(
        data=DataSettings(dir=str(data_dir)),
        layer_cache=LayerCacheSettings(enabled=False),
        content=ContentSettings(analyzers=["insecure", "licenses"]),
    )
    source = parse_target(f"oci:{fixtures}/oci/debian", registries=[], platform="linux/amd64")
    image = await source.open()
    async with image:
        bound = ContentAnalysis.from_settings(settings).bind(image.info.layers)
        return await detect(
            image, scan_id=scan_id, catalogers=select(("image",)), vulndb=db, analyzers=bound.analyzers
        )


def _matched(db_path: Path, scanned: ScanCompleted) -> set[tuple[str, str]]:
    """(vulnerability, purl) of every match of the scanned inventory against the database at ``db_path``."""
    with VulnDB.open(db_path) as db:
        return {
            (m.vuln_id, m.package_purl)
            for m in match_packages(db, scanned.image.distro, scanned.packages).matches
        }


def _rematch_events(published: list[tuple[str, Any]], digest: str, build: str) -> dict[tuple[str, str], str]:
    return {
        (e.finding.id, e.finding.purl): e.state
        for k, e in published
        if isinstance(e, FindingEvent)
        and e.digest == digest
        and e.evaluation == f"rematch:{build}"
        and k == e.finding.finding_id
    }


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[Store]:
    s = await Store.connect(pg_dsn)
    yield s
    await s.close()


async def test_new_advisories_are_rematched_without_a_rescan(
    fixtures: Path, vulndata: Path, store: Store, pg_dsn: str, kafka_servers: str, tmp_path: Path
) -> None:
    records = _records(vulndata)
    # which Debian advisories really hit the fixture: its inventory against the whole export
    full = tmp_path / "full.db"
    await update_db(str(vulndata), full, ecosystems=["Debian"])
    baseline = await _scan(fixtures, None, "inventory-only", tmp_path / "data")
    with VulnDB.open(full) as db:
        everything = match_packages(db, baseline.image.distro, baseline.packages).matches
    (x, x_ids), (y, y_ids), (z, z_ids) = _pick(everything, records)

    db_path = tmp_path / "vuln.db"
    await _build(db_path, tmp_path / "v1", [records[i] for i in sorted(x_ids | y_ids)])
    with VulnDB.open(db_path) as db:
        scanned = await _scan(fixtures, db, "scan-1", tmp_path / "data")
    digest = scanned.image.digest
    before = {(m.vuln_id, m.package_purl) for m in scanned.matches}
    assert {(x.vuln_id, x.package_purl), (y.vuln_id, y.package_purl)} <= before
    assert (z.vuln_id, z.package_purl) not in before
    assert scanned.detections, "the fixture has content detections (licenses, insecure configuration)"

    bus = KafkaBus(kafka_servers, client_id="assay-test-rematch")
    await bus.start()
    try:
        await bus.ensure_topics(ALL_TOPICS)
        await sight(
            store,
            digest=digest,
            image_ref=scanned.image.ref,
            environment="registry:test",
            repository="debian",
            tag="1",
        )
        rulesets = load_rulesets()
        stored = await make_policy_handler(store, rulesets)(scanned)
        assert {o.event.finding.id for o in stored if isinstance(o.event, FindingEvent)} >= {
            x.vuln_id,
            y.vuln_id,
        }
        detection_ids = {
            f.finding_id
            for f in await stored_findings(store.pool, digest)
            if f.category not in ("CVE", "Coverage")
        }
        assert detection_ids

        # the watcher's first look at the database the scan used: nothing differs, nothing is published
        publish = bus_publisher(bus)
        assert await rematch_if_changed(store, rulesets, db_path, publish=publish) == 0
        assert await rematch_if_changed(store, rulesets, db_path, publish=publish) is None  # same build

        # a newer set adds a vulnerability of the fixture: a new finding, published, no rescan
        db_path.unlink()
        build2 = await _build(db_path, tmp_path / "v2", [records[i] for i in sorted(x_ids | y_ids | z_ids)])
        added = _matched(db_path, scanned) - before
        assert (z.vuln_id, z.package_purl) in added
        assert await rematch_if_changed(store, rulesets, db_path, publish=publish) == len(added)
        assert await Lifecycle(store.pool).get_state(ADVISORY_BUILD_KEY) == build2
    finally:
        await bus.stop()
    published = await read_topic(kafka_servers, Topics.FINDINGS)
    assert _rematch_events(published, digest, build2) == dict.fromkeys(added, "new")
    new = next(
        e.finding
        for _, e in published
        if isinstance(e, FindingEvent) and (e.finding.id, e.finding.purl) == (z.vuln_id, z.package_purl)
    )
    assert (new.package_name, new.installed_version) == (z.package_name, z.package_version)

    # an advisory withdrawn: `assay rematch` publishes the resolution
    db_path.unlink()
    build3 = await _build(db_path, tmp_path / "v3", [records[i] for i in sorted(x_ids | z_ids)])
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update(
        ASSAY_PG_DSN=pg_dsn,
        ASSAY_KAFKA_BOOTSTRAP=kafka_servers,
        ASSAY_DB_PATH=str(db_path),
        ASSAY_DATA_DIR=str(tmp_path / "data"),
    )
    proc = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "services.cli.main", "rematch"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    withdrawn = (before | added) - _matched(db_path, scanned)
    assert (y.vuln_id, y.package_purl) in withdrawn
    assert f"{len(withdrawn)} finding events published" in proc.stdout
    published = await read_topic(kafka_servers, Topics.FINDINGS)
    assert _rematch_events(published, digest, build3) == dict.fromkeys(withdrawn, "resolved")

    states = await Lifecycle(store.pool).finding_states(digest)
    assert all(states[i] != "resolved" for i in detection_ids)  # detections are not rematched
    assert await Lifecycle(store.pool).get_state(ADVISORY_BUILD_KEY) == build3
