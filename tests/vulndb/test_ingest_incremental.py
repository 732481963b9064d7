"""Incremental updates over HTTP: conditional GETs, 304s, changed/removed/withdrawn records,
progress, and atomic replacement — against the real exports in /work/shared/vulndata."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from services.common.errors import VulnDBError
from services.vulndb import VulnDB, update_db
from tests.harness.requirements import require, shared_dir
from tests.vulndb.httpserve import Served, serve

ECOSYSTEMS = ["Debian", "Alpine", "NuGet"]


def _vulndata() -> Path:
    root = shared_dir() / "vulndata"
    require((root / "Debian" / "all.zip").is_file(), f"{root} (the offline OSV export) is missing")
    return root


def _records(zip_path: Path) -> dict[str, dict[str, object]]:
    with zipfile.ZipFile(zip_path) as zf:
        docs = (json.loads(zf.read(n)) for n in zf.namelist() if n.endswith(".json"))
        return {d["id"]: d for d in docs}


def _write_zip(zip_path: Path, docs: list[dict[str, object]]) -> None:
    tmp = zip_path.with_suffix(".new")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for doc in docs:
            zf.writestr(f"{doc['id']}.json", json.dumps(doc))
    tmp.replace(zip_path)


def _ids(db_path: Path) -> set[str]:
    with sqlite3.connect(db_path) as conn:
        return {r[0] for r in conn.execute("SELECT DISTINCT id FROM advisories")}


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """A writable copy of three real exports (Debian, Alpine, NuGet) in the bucket layout."""
    src = _vulndata()
    root = tmp_path / "export"
    for eco in ECOSYSTEMS:
        (root / eco).mkdir(parents=True)
        shutil.copyfile(src / eco / "all.zip", root / eco / "all.zip")
    return root


@pytest_asyncio.fixture
async def server(export: Path) -> AsyncIterator[Served]:
    async with serve(export) as served:
        yield served


async def test_second_update_is_all_304_and_leaves_the_file_alone(server: Served, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    first = await update_db(server.url, db, ecosystems=ECOSYSTEMS)
    expected = {eco: len(_records(_vulndata() / eco / "all.zip")) for eco in ECOSYSTEMS}
    assert {s.ecosystem: s.added for s in first.sources} == expected
    assert first.changed
    assert all(status == 200 for _, cond, status in server.log if not cond)
    before = (db.stat().st_mtime_ns, db.read_bytes())

    second = await update_db(server.url, db, ecosystems=ECOSYSTEMS)
    assert not second.changed
    assert [s.status for s in second.sources] == ["unchanged"] * 3
    assert second.advisories == first.advisories
    for eco in ECOSYSTEMS:
        assert server.statuses(f"/{eco}/all.zip") == [200, 304]
    sent = [cond for path, cond, _ in server.log[3:]]
    assert all(tag.startswith('"') for tag in sent), "the ETag was not sent back as If-None-Match"
    assert (db.stat().st_mtime_ns, db.read_bytes()) == before
    with VulnDB.open(db) as handle:
        assert {s.ecosystem: s.etag != "" for s in handle.sources()} == dict.fromkeys(ECOSYSTEMS, True)


async def test_changed_source_rewrites_only_changed_records(
    server: Served, export: Path, tmp_path: Path
) -> None:
    db = tmp_path / "db.sqlite"
    await update_db(server.url, db, ecosystems=ECOSYSTEMS)
    zip_path = export / "Debian" / "all.zip"
    docs = _records(zip_path)
    changed_id, removed_id = sorted(docs)[:2]
    docs[changed_id] = {**docs[changed_id], "modified": "2030-01-01T00:00:00Z", "summary": "rewritten"}
    del docs[removed_id]
    _write_zip(zip_path, list(docs.values()))

    with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as old_reader:
        stats = await update_db(server.url, db, ecosystems=ECOSYSTEMS)
        # A reader of the old database keeps seeing all of it: the new one was renamed over it.
        assert removed_id in {r[0] for r in old_reader.execute("SELECT id FROM advisories")}
    old_reader.close()

    debian = next(s for s in stats.sources if s.ecosystem == "Debian")
    assert (debian.status, debian.updated, debian.removed, debian.added) == ("ok", 1, 1, 0)
    assert debian.unchanged == len(docs) - 1
    assert [s.status for s in stats.sources if s.ecosystem != "Debian"] == ["unchanged", "unchanged"]
    assert server.statuses("/Debian/all.zip") == [200, 200]
    ids = _ids(db)
    assert removed_id not in ids
    assert changed_id in ids
    with sqlite3.connect(db) as conn:
        (summary,) = conn.execute("SELECT summary FROM advisories WHERE id = ?", (changed_id,)).fetchone()
    assert summary == "rewritten"
    assert stats.advisories == len(ids)


async def test_withdrawn_record_is_dropped(server: Served, export: Path, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    await update_db(server.url, db, ecosystems=ECOSYSTEMS)
    zip_path = export / "Alpine" / "all.zip"
    docs = _records(zip_path)
    victim = sorted(docs)[-1]
    docs[victim] = {**docs[victim], "withdrawn": "2030-01-01T00:00:00Z", "modified": "2030-01-01T00:00:00Z"}
    _write_zip(zip_path, list(docs.values()))
    stats = await update_db(server.url, db, ecosystems=ECOSYSTEMS)
    alpine = next(s for s in stats.sources if s.ecosystem == "Alpine")
    assert (stats.withdrawn, alpine.removed, alpine.updated) == (1, 1, 0)
    assert victim not in _ids(db)


async def test_last_modified_only_server(export: Path, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    async with serve(export, etag=False) as served:
        await update_db(served.url, db, ecosystems=["NuGet"])
        stats = await update_db(served.url, db, ecosystems=["NuGet"])
    assert not stats.changed
    assert served.statuses("/NuGet/all.zip") == [200, 304]
    assert served.log[1][1].endswith("GMT")  # If-Modified-Since carried the Last-Modified date


async def test_progress_reports_bytes_and_records(server: Served, export: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    status: list[str] = []
    stats = await update_db(
        server.url, tmp_path / "db.sqlite", ecosystems=["Debian"], progress=lines.append, status=status.append
    )
    size = (export / "Debian" / "all.zip").stat().st_size
    assert f"Debian: downloaded {size} bytes ({size / 1e6:.1f} MB)" in lines
    assert any(line.startswith(f"Debian: {stats.records} records: {stats.added} new") for line in lines)
    assert any("MB of" in s and "downloaded" in s for s in status)  # the first chunk is reported
    assert lines[-1].startswith("done: ")


async def test_failure_midway_keeps_the_previous_database(
    server: Served, export: Path, tmp_path: Path
) -> None:
    db = tmp_path / "db.sqlite"
    await update_db(server.url, db, ecosystems=ECOSYSTEMS)
    before = db.read_bytes()
    docs = _records(export / "Debian" / "all.zip")
    newer = [{**d, "modified": "2031-01-01T00:00:00Z"} for d in docs.values()]
    _write_zip(export / "Debian" / "all.zip", newer)
    (export / "NuGet" / "all.zip").write_bytes(b"not a zip at all")
    with pytest.raises(VulnDBError, match="cannot open advisory archive"):
        await update_db(server.url, db, ecosystems=ECOSYSTEMS)
    assert db.read_bytes() == before
    assert sorted(p.name for p in os.scandir(tmp_path)) == ["db.sqlite", "db.sqlite.lock", "export"]


async def test_local_zip_touched_but_same_content_rewrites_nothing(export: Path, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    first = await update_db(str(export), db, ecosystems=["Alpine"])
    again = await update_db(str(export), db, ecosystems=["Alpine"])
    assert not again.changed
    os.utime(export / "Alpine" / "all.zip", ns=(1, 1))  # same bytes, another mtime
    touched = await update_db(str(export), db, ecosystems=["Alpine"])
    assert touched.changed
    assert (touched.added, touched.updated, touched.removed) == (0, 0, 0)
    assert touched.unchanged == first.added


async def test_source_no_longer_listed_is_removed(export: Path, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    await update_db(str(export), db, ecosystems=["Alpine", "NuGet"])
    stats = await update_db(str(export), db, ecosystems=["NuGet"])
    alpine = next(s for s in stats.sources if s.status == "removed")
    assert alpine.ecosystem == "Alpine"
    assert alpine.removed > 0
    with VulnDB.open(db) as handle:
        assert not handle.has_ecosystem("Alpine:v3.20")
        assert [s.ecosystem for s in handle.sources()] == ["NuGet"]


async def test_changed_ecosystem_filter_rereads_the_source(tmp_path: Path) -> None:
    osv_dir = Path(__file__).parent / "testdata" / "osv"
    db = tmp_path / "db.sqlite"
    await update_db(str(osv_dir), db)
    stats = await update_db(str(osv_dir), db, ecosystems=["Alpine"])
    assert stats.changed
    assert stats.advisories == 1
    with VulnDB.open(db) as handle:
        assert handle.advisories_for("Debian:12", "curl") == []
        assert [a.id for a in handle.advisories_for("Alpine:v3.20", "curl")] == ["ALPINE-CVE-2024-2398"]


async def test_full_real_set_then_no_change(tmp_path: Path) -> None:
    src = _vulndata()
    db = tmp_path / "db.sqlite"
    cold = await update_db(str(src), db)
    assert cold.records == sum(len(_records(p)) for p in src.glob("*/all.zip"))
    assert cold.error_count == 0
    assert cold.records == cold.added + cold.withdrawn + cold.skipped
    # GHSA records shipped in several exports are stored per export and counted once.
    assert cold.advisories == cold.added - cold.duplicates
    assert cold.advisories == len(_ids(db))
    again = await update_db(str(src), db)
    assert not again.changed
    assert again.advisories == cold.advisories


async def test_database_of_another_schema_is_rebuilt(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.close()
    osv_dir = Path(__file__).parent / "testdata" / "osv"
    stats = await update_db(str(osv_dir), db)
    assert (stats.changed, stats.added, stats.advisories) == (True, 4, 4)
    with VulnDB.open(db) as handle:
        assert handle.meta()["schema_version"] == "2"


async def test_concurrent_update_is_refused(export: Path, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    started = asyncio.Event()
    first = asyncio.create_task(
        update_db(str(export), db, ecosystems=["Debian"], progress=lambda _line: started.set())
    )
    await started.wait()  # the first update holds the lock once it reports progress
    with pytest.raises(VulnDBError, match=r"another update of .* is running"):
        await update_db(str(export), db, ecosystems=["Debian"])
    assert (await first).advisories > 0
