"""CVSS ratings from NVD's CVE API 2.0 records (``cvss_nvd``), on real records (testdata/nvd)."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from services.vulndb.cvss_nvd import nvd_ratings, record_ratings
from services.vulndb.cvss_source import best, read_ratings

PAGE = Path(__file__).parent / "testdata" / "nvd" / "nvd-cves-page.json"


def _page() -> dict[str, object]:
    return json.loads(PAGE.read_bytes())  # type: ignore[no-any-return]


def _cve(cve_id: str) -> dict[str, object]:
    for item in _page()["vulnerabilities"]:  # type: ignore[attr-defined]
        if item["cve"]["id"] == cve_id:
            return item["cve"]  # type: ignore[no-any-return]
    raise AssertionError(cve_id)


def test_an_api_page_gives_every_records_ratings() -> None:
    rows = record_ratings(PAGE.read_bytes())
    assert len({r.cve for r in rows}) == 34  # 35 records, CVE-2024-2004's has no score yet
    assert all(r.cve.startswith("CVE-") and 0 < r.score <= 10 for r in rows)


def test_nvds_own_score_is_primary_and_cisas_copy_keeps_cisas_name() -> None:
    rows = {(r.provider, r.kind): r for r in nvd_ratings(_cve("CVE-2024-7264"))}
    assert set(rows) == {("nvd", "cvss_v3"), ("adp:CISA-ADP", "cvss_v3")}
    nvd = rows[("nvd", "cvss_v3")]
    assert (nvd.severity, nvd.score, nvd.vector) == (
        "MEDIUM",
        6.5,
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H",
    )
    # the CVE record's own rating order holds: CISA's ADP score first, then NVD's
    assert best(rows.values()) == rows[("adp:CISA-ADP", "cvss_v3")]


def test_a_mitre_era_record_rated_by_nvd_alone_gets_v3_and_v2() -> None:
    rows = {r.kind: r for r in nvd_ratings(_cve("CVE-2021-35042"))}  # Django, SQL injection
    assert (rows["cvss_v3"].severity, rows["cvss_v3"].score) == ("CRITICAL", 9.8)
    assert (rows["cvss_v2"].severity, rows["cvss_v2"].score) == ("HIGH", 7.5)
    assert best(rows.values()) == rows["cvss_v3"]  # newest specification first


def test_a_secondary_source_nvd_does_not_know_keeps_its_id() -> None:
    cve = _cve("CVE-2024-11053")
    cve["metrics"]["cvssMetricV31"][0]["source"] = "security@example.org"  # type: ignore[index]
    (row,) = nvd_ratings(cve)
    assert row.provider == "nvd:security@example.org"


def test_unscored_rejected_and_bad_vector_records_give_nothing() -> None:
    assert nvd_ratings(_cve("CVE-2024-2004")) == []  # "metrics": {} (awaiting analysis)
    rejected = _cve("CVE-2021-35042") | {"vulnStatus": "Rejected"}
    assert nvd_ratings(rejected) == []
    bad = _cve("CVE-2021-35042")
    bad["metrics"] = {
        "cvssMetricV31": [{"source": "nvd@nist.gov", "type": "Primary", "cvssData": {"vectorString": "x"}}]
    }
    assert nvd_ratings(bad) == []
    with pytest.raises(ValueError, match="no id"):
        nvd_ratings({"metrics": {}})


def test_record_ratings_reads_all_three_shapes_and_refuses_others() -> None:
    mirror = msgspec.json.encode(_cve("CVE-2021-35042"))  # one cve object per file, as NVD mirrors keep
    assert {r.kind for r in record_ratings(mirror)} == {"cvss_v3", "cvss_v2"}
    cve5 = {
        "cveMetadata": {"cveId": "CVE-2099-0001", "state": "PUBLISHED"},
        "containers": {
            "cna": {
                "providerMetadata": {"shortName": "x"},
                "metrics": [{"cvssV3_1": {"vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}],
            }
        },
    }
    (row,) = record_ratings(msgspec.json.encode(cve5))
    assert (row.provider, row.score) == ("cna:x", 9.8)
    with pytest.raises(ValueError, match="neither"):
        record_ratings(b'{"hello": 1}')
    with pytest.raises(ValueError, match="not an object"):
        record_ratings(b"[1, 2]")
    with pytest.raises(msgspec.DecodeError):
        record_ratings(b"{nope")


def test_read_ratings_takes_a_folder_mixing_cve_records_and_nvd_pages(tmp_path: Path) -> None:
    (tmp_path / "nvd").mkdir()
    (tmp_path / "nvd" / "page.json").write_bytes(PAGE.read_bytes())
    (tmp_path / "nvd" / "broken.json").write_text('{"vulnerabilities": 3, "x": 1}')
    problems: list[str] = []
    rows = list(read_ratings(tmp_path, problems, record_ratings))
    assert {r.cve for r in rows} >= {"CVE-2024-7264", "CVE-2022-36359"}
    (problem,) = problems
    assert "broken.json" in problem
    assert "neither" in problem


def test_a_cna_scoring_every_cvss_version_is_rated_by_the_newest() -> None:
    rows = {r.kind: r for r in nvd_ratings(_cve("CVE-2026-6042"))}  # musl, VulDB's scores
    assert {r.provider for r in rows.values()} == {"nvd:cna@vuldb.com"}
    assert {k: (r.severity, r.score) for k, r in rows.items()} == {
        "cvss_v4": ("MEDIUM", 4.8),
        "cvss_v3": ("LOW", 3.3),
        "cvss_v2": ("LOW", 1.7),
    }
    assert best(rows.values()) == rows["cvss_v4"]
    assert rows["cvss_v4"].vector == "CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:N/VI:N/VA:L/SC:N/SI:N/SA:N"
