"""CVSS ratings by CVE id from real CVE JSON 5 records (../shared/cvelist), loaded and applied to matches."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import msgspec
import pytest

from schemas.records import Distro, PackageRecord
from services.common.errors import VulnDBError
from services.vulndb import VulnDB, update_db
from services.vulndb.cvss_source import Rating, advisory_ratings, best, rate_match, ratings, read_ratings
from services.vulndb.cvss_update import ingest_cvss
from services.vulndb.matcher import match_packages
from tests.harness.requirements import require, shared_dir
from tests.vulndb.conftest import debian_changelog_record

BOOKWORM = Distro(id="debian", version_id="12", pretty_name="Debian GNU/Linux 12 (bookworm)")


def _cvelist() -> Path:
    path = shared_dir() / "cvelist" / "cves"
    require(path.is_dir(), f"{path} (real CVE JSON 5 records) is missing")
    return path


def _record(cve: str) -> bytes:
    found = sorted(_cvelist().rglob(f"{cve}.json"))
    assert found, cve
    return found[0].read_bytes()


def _by_provider(cve: str) -> dict[tuple[str, str], Rating]:
    return {(r.provider, r.kind): r for r in ratings(_record(cve))}


def test_cna_cvss_v31_is_recomputed_from_its_vector() -> None:
    got = _by_provider("CVE-2024-35176")  # REXML, GitHub's CNA: one CVSS 3.1 vector
    r = got[("cna:GitHub_M", "cvss_v3")]
    assert (r.severity, r.score, r.vector) == ("MEDIUM", 5.3, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L")
    assert best(got.values()) == r
    assert r.source == "cna:GitHub_M/cvss_v3"


def test_cna_cvss_v4() -> None:
    got = _by_provider("CVE-2024-49761")
    r = got[("cna:GitHub_M", "cvss_v4")]
    assert r.vector.startswith("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H")
    assert (r.severity, r.score) == ("MEDIUM", 6.6)  # as the record states: E:U lowers the score
    # CISA's ADP container of that record holds only an SSVC decision: no rating from it
    assert all(p.startswith("cna:") for p, _ in got)


def test_cisa_adp_cvss_beats_the_cnas_word() -> None:
    got = _by_provider("CVE-2024-0727")  # OpenSSL says "Low"; CISA's Vulnrichment adds CVSS 3.1
    assert got[("cna:openssl", "rating")].severity == "LOW"
    adp = got[("adp:CISA-ADP", "cvss_v3")]
    assert (adp.severity, adp.score) == ("MEDIUM", 5.5)
    assert best(got.values()) == adp


def test_a_cna_word_alone_rates_the_cve() -> None:
    got = _by_provider("CVE-2024-6119")
    assert list(got) == [("cna:openssl", "rating")]
    chosen = best(got.values())
    assert chosen is not None
    assert (chosen.severity, chosen.score, chosen.vector) == ("MEDIUM", 0.0, "")


def test_a_record_without_metrics_gives_nothing_and_a_rejected_one_neither() -> None:
    assert ratings(_record("CVE-2025-27219")) == []
    doc = json.loads(_record("CVE-2024-35176"))
    doc["cveMetadata"]["state"] = "REJECTED"
    assert ratings(json.dumps(doc).encode()) == []
    with pytest.raises(ValueError, match="not a CVE JSON 5 record"):
        ratings(b'{"id": "GHSA-xxxx-xxxx-xxxx"}')
    with pytest.raises(msgspec.DecodeError):
        ratings(b"{not json")


def test_a_bad_vector_is_dropped_not_trusted() -> None:
    doc = json.loads(_record("CVE-2024-35176"))
    doc["containers"]["cna"]["metrics"][0]["cvssV3_1"]["vectorString"] = "CVSS:3.1/AV:X"
    assert ratings(json.dumps(doc).encode()) == []


def test_read_ratings_from_a_tree_and_a_zip_reports_bad_files(tmp_path: Path) -> None:
    tree = tmp_path / "cves"
    shutil.copytree(_cvelist(), tree)
    (tree / "2099").mkdir()
    (tree / "2099" / "broken.json").write_text("{")
    problems: list[str] = []
    from_tree = list(read_ratings(tree, problems))
    assert len(problems) == 1
    assert problems[0].startswith("2099/broken.json: ")
    archive = tmp_path / "cves.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted(_cvelist().rglob("*.json")):
            z.write(f, f.relative_to(_cvelist().parent))
    assert sorted(read_ratings(archive, []), key=repr) == sorted(from_tree, key=repr)
    wrapped = tmp_path / "all_CVEs_at_midnight.zip.zip"  # the CVE List's release asset: a zip in a zip
    with zipfile.ZipFile(wrapped, "w") as z:
        z.write(archive, "cves.zip")
    assert sorted(read_ratings(wrapped, []), key=repr) == sorted(from_tree, key=repr)
    assert [p.name for p in tmp_path.glob("tmp*.zip")] == []  # the unpacked inner zip is gone
    # 65 of the sample's 151 records carry a CVSS metric (its README); the rest may carry a word
    assert len({r.cve for r in from_tree if r.kind != "rating"}) == 65


def test_advisory_ratings_take_an_advisorys_cvss_for_each_cve_it_names() -> None:
    rows = [
        (
            "x_RUBYSEC-uri-CVE-2023-28755",
            '["CVE-2023-28755","GHSA-hv5j-3h9f-99c2"]',
            "[]",
            '{"cvss_v3":"7.5"}',
        ),
        ("GHSA-aaaa-bbbb-cccc", '["CVE-2099-0001"]', "[]", '{"severity":"MODERATE"}'),
        ("PYSEC-2099-1", "[]", "[]", None),  # no CVE named
        ("x_DEBCL-CVE-2099-2", "[]", "[]", None),  # names a CVE but rates nothing
    ]
    got = list(advisory_ratings(rows))
    assert [(r.cve, r.provider, r.kind, r.severity, r.score) for r in got] == [
        ("CVE-2023-28755", "osv:x_RUBYSEC-uri-CVE-2023-28755", "cvss_v3", "HIGH", 7.5),
        ("CVE-2099-0001", "osv:GHSA-aaaa-bbbb-cccc", "rating", "MEDIUM", 0.0),
    ]
    # a CVE record's word outranks another database's CVSS; the CNA's CVSS outranks both
    word = Rating(cve="CVE-2023-28755", provider="cna:mitre", kind="rating", severity="LOW")
    cna = Rating(cve="CVE-2023-28755", provider="cna:mitre", kind="cvss_v3", severity="LOW", score=3.1)
    assert best([got[0], word]) == word
    assert best([got[0], word, cna]) == cna


def _openssl() -> PackageRecord:
    return PackageRecord(
        name="libssl3",
        version="3.0.11-1~deb12u2",
        type="deb",
        purl="pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12",
        source_name="openssl",
    )


async def test_update_with_cvss_rates_a_finding_its_advisory_left_unknown(tmp_path: Path) -> None:
    db_path = tmp_path / "db.sqlite"
    osv_dir = debian_changelog_record(tmp_path, "CVE-2024-0727")
    await update_db(str(osv_dir), db_path)
    with VulnDB.open(db_path) as db:
        before = match_packages(db, BOOKWORM, [_openssl()]).matches
    assert [(m.vuln_id, m.severity, m.severity_source) for m in before] == [("CVE-2024-0727", "UNKNOWN", "")]
    stats = await ingest_cvss(str(_cvelist()), db_path)
    assert [s.status for s in stats.sources] == ["unchanged", "ok"]  # the advisories were not re-read
    with VulnDB.open(db_path) as db:
        assert db.meta()["cvss"] == str(stats.sources[1].records)
        after = match_packages(db, BOOKWORM, [_openssl()]).matches
    assert [(m.vuln_id, m.severity, m.cvss_score, m.severity_source) for m in after] == [
        ("CVE-2024-0727", "MEDIUM", 5.5, "adp:CISA-ADP/cvss_v3")
    ]
    assert after[0].cvss_vector == "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H"


async def test_ingest_cvss_needs_a_database(tmp_path: Path) -> None:
    with pytest.raises(VulnDBError, match="no advisory database"):
        await ingest_cvss(str(_cvelist()), tmp_path / "none.sqlite")


def test_rate_match_keeps_a_vendor_word_and_adds_the_score() -> None:
    from schemas.records import VulnMatch

    m = VulnMatch(
        vuln_id="CVE-2024-0727",
        package_name="libssl3",
        package_version="3.0.11-1~deb12u2",
        package_purl="pkg:deb/debian/libssl3",
        severity="LOW",
        severity_source="debian",
    )
    rows = ratings(_record("CVE-2024-0727"))
    rated = rate_match(m, [rows])
    assert (rated.severity, rated.severity_source, rated.cvss_score) == ("LOW", "debian", 5.5)
    assert rate_match(m, [[]]) == m
