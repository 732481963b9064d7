"""update_db from local sources: the real Debian/Alpine exports, JSON folders, single zips."""

from __future__ import annotations

import json
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest

from services.common.errors import VulnDBError
from services.vulndb import VulnDB, update_db

OSV_FIXTURES = Path(__file__).parent / "testdata" / "osv"

EXPECTED = {"Debian": (3807, 3822), "Alpine": (2611, 12004)}  # records, affected entries


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


def test_real_debian_and_alpine_exports(os_db_path: Path) -> None:
    assert _count(os_db_path, "SELECT count(*) FROM advisories") == 3807 + 2611
    assert _count(os_db_path, "SELECT count(*) FROM affected") == 3822 + 12004
    assert _count(os_db_path, "SELECT count(*) FROM affected WHERE ecosystem = 'Debian:12'") == 3822
    assert _count(os_db_path, "SELECT count(*) FROM affected WHERE ecosystem = 'Alpine:v3.20'") > 0
    with VulnDB.open(os_db_path) as db:
        meta = db.meta()
    assert meta["schema_version"] == "2"
    assert meta["built_at"].endswith("Z")
    sources = json.loads(meta["sources"])
    assert {s["ecosystem"]: s["advisories"] for s in sources} == {
        eco: records for eco, (records, _) in EXPECTED.items()
    }


async def test_stats_for_one_export(vulndata: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    stats = await update_db(
        str(vulndata), tmp_path / "db.sqlite", ecosystems=["Debian"], progress=lines.append
    )
    assert (stats.records, stats.advisories, stats.affected) == (3807, 3807, 3822)
    assert (stats.withdrawn, stats.error_count, stats.missing) == (0, 0, [])
    assert any("Debian" in line for line in lines)
    assert not (tmp_path / "db.sqlite.tmp").exists()


async def test_withdrawn_records_in_real_pypi_export_are_dropped(vulndata: Path, tmp_path: Path) -> None:
    stats = await update_db(str(vulndata / "PyPI" / "all.zip"), tmp_path / "db.sqlite")
    assert stats.withdrawn == 269  # per the dataset README
    assert stats.advisories == stats.records - 269
    db = tmp_path / "db.sqlite"
    assert _count(db, "SELECT count(*) FROM advisories WHERE id = 'PYSEC-2006-10'") == 0


async def test_json_folder_counts_errors_and_withdrawn(fixture_db_path: Path, tmp_path: Path) -> None:
    stats = await update_db(str(OSV_FIXTURES), tmp_path / "db.sqlite")
    assert stats.records == 8
    assert stats.advisories == 4
    assert stats.withdrawn == 1
    assert stats.error_count == 3
    assert sorted(e.file.rsplit("/", 1)[-1] for e in stats.errors) == [
        "no-id.json",
        "truncated.json",
        "wrong-type.json",
    ]
    reasons = {e.file.rsplit("/", 1)[-1]: e.reason for e in stats.errors}
    assert "id" in reasons["no-id.json"]
    assert "aliases" in reasons["wrong-type.json"]
    assert stats.records == stats.advisories + stats.withdrawn + stats.duplicates + stats.skipped + 3


async def test_ecosystem_filter_applies_to_affected_entries(tmp_path: Path) -> None:
    stats = await update_db(str(OSV_FIXTURES), tmp_path / "db.sqlite", ecosystems=["Alpine"])
    assert stats.advisories == 1
    assert stats.skipped == 3  # the Debian and npm records
    assert _count(tmp_path / "db.sqlite", "SELECT count(DISTINCT ecosystem) FROM affected") == 1


async def test_zip_with_repeated_id_keeps_newest(tmp_path: Path) -> None:
    record = json.loads((OSV_FIXTURES / "alpine" / "ALPINE-CVE-2024-2398.json").read_text())
    newer = {**record, "modified": "2027-01-01T00:00:00Z", "summary": "newer copy"}
    older = {**record, "modified": "2020-01-01T00:00:00Z", "summary": "older copy"}
    export = tmp_path / "export"
    for eco, docs in {"Alpine": [record, newer], "Other": [older]}.items():
        (export / eco).mkdir(parents=True)
        with zipfile.ZipFile(export / eco / "all.zip", "w") as zf:
            for i, doc in enumerate(docs):
                zf.writestr(f"{i}/{doc['id']}.json", json.dumps(doc))
    stats = await update_db(str(export), tmp_path / "db.sqlite")
    assert (stats.advisories, stats.duplicates) == (1, 2)
    with VulnDB.open(tmp_path / "db.sqlite") as db:
        (adv,) = db.advisories_for("Alpine:v3.20", "curl")
    assert adv.summary == "newer copy"
    assert len(adv.affected) == 1


async def test_folder_names_with_spaces_and_missing_ecosystems(tmp_path: Path) -> None:
    export = tmp_path / "export"
    (export / "Red Hat").mkdir(parents=True)
    shutil.make_archive(str(export / "Red Hat" / "all"), "zip", OSV_FIXTURES / "debian")
    stats = await update_db(str(export), tmp_path / "db.sqlite", ecosystems=["Red Hat", "Debian", "Go"])
    assert stats.missing == ["Debian", "Go"]
    # Only "Red Hat" is read; its records are Debian:12 ones, kept because "Debian" is selected.
    assert stats.advisories == 2


async def test_failed_update_keeps_previous_database(fixture_db_path: Path, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    shutil.copy(fixture_db_path, db)
    before = db.read_bytes()
    empty = tmp_path / "empty"
    (empty / "x").mkdir(parents=True)
    (empty / "x" / "bad.json").write_text("{")
    with pytest.raises(VulnDBError, match="no advisories ingested"):
        await update_db(str(empty), db)
    assert db.read_bytes() == before
    assert not (tmp_path / "db.sqlite.tmp").exists()


async def test_unreadable_sources_raise(tmp_path: Path) -> None:
    with pytest.raises(VulnDBError, match="no advisory source"):
        await update_db(str(tmp_path / "nope"), tmp_path / "db.sqlite")
    not_zip = tmp_path / "all.zip"
    not_zip.write_text("not a zip")
    with pytest.raises(VulnDBError, match="not a zip"):
        await update_db(str(not_zip), tmp_path / "db.sqlite")
