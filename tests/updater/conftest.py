"""Fixtures for the updater tests: real PostgreSQL, the real broker, OSV subsets of ../shared/vulndata."""

from __future__ import annotations

import json
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from schemas.topics import ALL_TOPICS
from services.common.bus.kafka import KafkaBus
from services.common.objectstore import DirectoryObjectStore
from services.common.store.postgres import Store
from services.settings import load_settings
from services.updater.build import UpdaterPlan


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[Store]:
    s = await Store.connect(pg_dsn)
    yield s
    await s.close()


@pytest.fixture
async def bus(kafka_servers: str) -> AsyncIterator[KafkaBus]:
    b = KafkaBus(kafka_servers, client_id="assay-test-updater")
    await b.start()
    await b.ensure_topics(ALL_TOPICS)
    yield b
    await b.stop()


@pytest.fixture
def objects(tmp_path: Path) -> DirectoryObjectStore:
    return DirectoryObjectStore(tmp_path / "objects")


@pytest.fixture(scope="session")
def debian_records(vulndata: Path) -> dict[str, dict[str, Any]]:
    """Every Debian OSV record of the shared export, by id."""
    out = {}
    with zipfile.ZipFile(vulndata / "Debian" / "all.zip") as zf:
        for name in zf.namelist():
            if name.endswith(".json"):
                record = json.loads(zf.read(name))
                out[record["id"]] = record
    return out


def write_osv(folder: Path, records: list[dict[str, Any]]) -> None:
    """``folder`` holding exactly ``records`` as OSV JSON files (what the updater's source reads)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.json"):
        old.unlink()
    for r in records:
        (folder / f"{r['id']}.json").write_text(json.dumps(r))


def updater_plan(source: Path, work: Path, interval_s: float = 3600.0) -> UpdaterPlan:
    """The updater's plan for an OSV folder ``source``, working under ``work``."""
    settings = load_settings(
        environ={
            "ASSAY_UPDATER_SOURCE": str(source),
            "ASSAY_UPDATER_WORK_DIR": str(work),
            "ASSAY_UPDATER_INTERVAL_S": str(interval_s),
        }
    )
    return UpdaterPlan.from_settings(settings)


async def make_due(store: Store, age: str = "1 day") -> None:
    """Age every recorded build: as if the updater last refreshed ``age`` ago."""
    async with store.pool.acquire() as conn:
        await conn.execute(f"UPDATE advisory_builds SET checked_at = now() - interval '{age}'")
