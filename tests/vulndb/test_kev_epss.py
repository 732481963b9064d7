"""Known-exploited (CISA KEV) and EPSS data: loading from files and URLs, lookups, bad input."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from services.common.errors import VulnDBError
from services.vulndb import VulnDB, update_db
from services.vulndb.kev import KevFormatError, parse
from tests.harness.requirements import require, shared_dir
from tests.vulndb.httpserve import serve

OSV = Path(__file__).parent / "testdata" / "osv"
EPSS = Path(__file__).parent / "testdata" / "epss" / "epss_scores-sample.csv"


def _kev_file() -> Path:
    path = shared_dir() / "kev" / "known_exploited_vulnerabilities.json"
    require(path.is_file(), f"{path} (the CISA KEV snapshot) is missing")
    return path


def test_parse_real_catalog() -> None:
    data = _kev_file().read_bytes()
    doc = json.loads(data)
    catalog = parse(data)
    assert catalog.version == doc["catalogVersion"]
    assert len(catalog.rows) == len(doc["vulnerabilities"]) == doc["count"]
    assert catalog.problems == []
    first = doc["vulnerabilities"][0]
    assert catalog.rows[0] == (
        first["cveID"],
        first["dateAdded"],
        first["dueDate"],
        first["knownRansomwareCampaignUse"],
        first["notes"],
    )


def test_parse_reports_bad_entries_and_rejects_other_documents() -> None:
    doc = {
        "catalogVersion": "x",
        "vulnerabilities": [
            {"cveID": "CVE-2021-44228", "dateAdded": "2021-12-10"},
            {"cveID": "log4shell"},
            7,
        ],
    }
    catalog = parse(json.dumps(doc).encode(), "kev.json")
    assert [r[0] for r in catalog.rows] == ["CVE-2021-44228"]
    assert len(catalog.problems) == 2
    assert all(p.startswith("kev.json: vulnerabilities[") for p in catalog.problems)
    with pytest.raises(KevFormatError, match="not a KEV catalog"):
        parse(b'{"id": "GHSA-xxxx"}', "osv.json")


async def test_kev_and_epss_from_files(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    kev_doc = json.loads(_kev_file().read_bytes())
    stats = await update_db(str(OSV), db, kev=str(_kev_file()), epss=str(EPSS))
    assert stats.kev == len(kev_doc["vulnerabilities"])
    assert stats.epss == 5  # 7 rows, 2 bad
    assert sum("line" in e.reason for e in stats.errors) == 2
    some = kev_doc["vulnerabilities"][10]
    with VulnDB.open(db) as handle:
        found = handle.known_exploited([some["cveID"].lower(), "GHSA-35jh-r3h4-6jhm", "CVE-1999-0001"])
        assert list(found) == [some["cveID"]]
        entry = found[some["cveID"]]
        assert (entry.date_added, entry.due_date, entry.ransomware) == (
            some["dateAdded"],
            some["dueDate"],
            some["knownRansomwareCampaignUse"],
        )
        scores = handle.epss(["CVE-2021-44228", "CVE-2024-2398", "CVE-2000-0000", "not-a-cve"])
        assert {k: (v.epss, v.percentile) for k, v in scores.items()} == {
            "CVE-2021-44228": (0.94358, 0.99953),
            "CVE-2024-2398": (0.00294, 0.52214),
        }
        meta = handle.meta()
    assert meta["kev_catalog_version"] == kev_doc["catalogVersion"]
    assert (meta["epss_model_version"], meta["epss_score_date"]) == ("v2025.03.14", "2025-08-25T12:55:00Z")

    # An update that names no feeds keeps the ones loaded before.
    again = await update_db(str(OSV), db)
    assert not again.changed
    assert (again.kev, again.epss) == (stats.kev, stats.epss)


async def test_gzipped_epss_and_many_ids(tmp_path: Path) -> None:
    gz = tmp_path / "epss_scores-current.csv.gz"
    gz.write_bytes(gzip.compress(EPSS.read_bytes()))
    db = tmp_path / "db.sqlite"
    await update_db(str(OSV), db, epss=str(gz))
    ids = [f"CVE-2020-{n:05d}" for n in range(3000)] + ["CVE-2025-48384"]
    with VulnDB.open(db) as handle:
        assert list(handle.epss(ids)) == ["CVE-2025-48384"]  # looked up in chunks under SQLite's limit
        assert handle.known_exploited(ids) == {}


async def test_kev_over_http_is_conditional(tmp_path: Path) -> None:
    folder = tmp_path / "cisa"
    folder.mkdir()
    shutil.copyfile(_kev_file(), folder / "kev.json")
    db = tmp_path / "db.sqlite"
    async with serve(folder) as served:
        first = await update_db(str(OSV), db, kev=f"{served.url}/kev.json")
        second = await update_db(str(OSV), db, kev=f"{served.url}/kev.json")
    assert first.kev > 0
    assert not second.changed
    assert served.statuses("/kev.json") == [200, 304]


async def test_bad_feeds_fail_and_keep_the_database(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    await update_db(str(OSV), db)
    before = db.read_bytes()
    not_kev = tmp_path / "kev.json"
    not_kev.write_text("[1, 2, 3]")
    with pytest.raises(VulnDBError, match="cannot read the KEV catalog"):
        await update_db(str(OSV), db, kev=str(not_kev))
    no_header = tmp_path / "epss.csv"
    no_header.write_text("CVE-2021-44228,0.9,0.9\n")
    with pytest.raises(VulnDBError, match="cannot read the EPSS file"):
        await update_db(str(OSV), db, epss=str(no_header))
    with pytest.raises(VulnDBError, match="no source at"):
        await update_db(str(OSV), db, epss=str(tmp_path / "absent.csv"))
    assert db.read_bytes() == before


async def test_a_new_kev_location_replaces_the_old(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    other = tmp_path / "kev-copy.json"
    shutil.copyfile(_kev_file(), other)
    await update_db(str(OSV), db, kev=str(_kev_file()))
    await update_db(str(OSV), db, kev=str(other))
    with VulnDB.open(db) as handle:
        assert [s.name for s in handle.sources() if s.kind == "kev"] == [str(other)]
