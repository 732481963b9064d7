"""Oracle Linux's ELSA errata (a real OVAL definition, as Trivy's mirror stores it) as OSV records."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import msgspec

from schemas.records import Distro, PackageRecord
from services.vulndb import VulnDB, elsa, update_db
from services.vulndb.matcher import match_packages
from services.vulndb.osv import decode_record
from services.vulndb.updateinfo import main, records

ELSA = Path(__file__).parent / "testdata" / "updateinfo" / "ELSA-2007-0057.json"
ORACLE_5 = Distro(id="ol", version_id="5.11", pretty_name="Oracle Linux Server 5.11")


def _doc() -> dict[str, Any]:
    doc = msgspec.json.decode(ELSA.read_bytes())
    assert isinstance(doc, dict)
    return doc


def test_an_oval_definition_becomes_one_osv_record() -> None:
    (rec,) = records(ELSA.read_bytes())  # no ecosystem needed: the criteria name the release
    assert (rec["id"], rec["published"], rec["database_specific"]["severity"]) == (
        "ELSA-2007-0057",
        "2007-06-26T00:00:00Z",
        "MODERATE",
    )
    assert rec["summary"] == "Moderate: bind security update (MODERATE)"
    assert rec["related"] == ["CVE-2007-0493", "CVE-2007-0494"]
    # the higher of Oracle's two CVSS v3 scores (5.5 and 3.1)
    assert rec["severity"] == [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N"}]
    fixes = {a["package"]["name"]: a["ranges"][0]["events"] for a in rec["affected"]}
    assert len(fixes) == 8
    assert fixes["bind-libs"] == [{"introduced": "0"}, {"fixed": "30:9.3.3-8.el5"}]
    assert {a["package"]["ecosystem"] for a in rec["affected"]} == {"Oracle Linux:5"}
    assert decode_record(msgspec.json.encode(rec)).id == "ELSA-2007-0057"  # valid OSV for the ingester


def test_each_release_in_the_criteria_gets_its_own_lowest_fix_and_ksplice_is_left_out() -> None:
    doc = _doc()
    branch = doc["Criteria"]
    ol6 = copy.deepcopy(branch)
    ol6["Criterions"] = [{"Comment": "Oracle Linux 6 is installed"}]
    for group in ol6["Criterias"][0]["Criterias"]:
        group["Criterions"][0]["Comment"] = group["Criterions"][0]["Comment"].replace("8.el5", "8.el6")
    # an aarch64 branch with a higher build of bind for the same release, and a Ksplice fix
    arm = {"Operator": "AND", "Criterions": [{"Comment": "bind is earlier than 30:9.3.3-9.el5"}]}
    ksplice = {
        "Operator": "AND",
        "Criterions": [{"Comment": "glibc is earlier than 2:2.5-123.0.1.ksplice1.el5"}],
    }
    branch["Criterias"][0]["Criterias"] += [arm, ksplice]
    doc["Criteria"] = {"Operator": "OR", "Criterias": [branch, ol6], "Criterions": None}
    (rec,) = elsa.records(doc)
    fixed = {
        (a["package"]["ecosystem"], a["package"]["name"]): a["ranges"][0]["events"][1]["fixed"]
        for a in rec["affected"]
    }
    assert fixed[("Oracle Linux:5", "bind")] == "30:9.3.3-8.el5"
    assert fixed[("Oracle Linux:6", "bind")] == "30:9.3.3-8.el6"
    assert not any(name == "glibc" for _, name in fixed)


def test_a_definition_without_package_criteria_gives_no_record() -> None:
    doc = _doc()
    doc["Criteria"] = {"Operator": "AND", "Criterions": [{"Comment": "Oracle Linux 5 is installed"}]}
    assert list(elsa.records(doc)) == []
    assert not elsa.is_elsa_document({"id": "ALAS2-2018-939"})


def _bind(version: str) -> PackageRecord:
    return PackageRecord(
        name="bind",
        version=version,
        type="rpm",
        purl=f"pkg:rpm/oracle/bind@{version}?epoch=30",
        source_name="bind",
        metadata={"epoch": "30"},
    )


async def test_oracle_linux_matched_with_elsa_and_rated_by_oracle(tmp_path: Path) -> None:
    osv_dir = tmp_path / "osv"
    assert main([str(ELSA), str(osv_dir)]) == 0
    db_path = tmp_path / "db.sqlite"
    await update_db(str(osv_dir), db_path)
    with VulnDB.open(db_path) as db:
        result = match_packages(db, ORACLE_5, [_bind("9.3.3-7.el5"), _bind("9.3.3-8.el5")])
    assert [
        (m.package_version, m.vuln_id, m.fixed_version, m.severity, m.severity_source) for m in result.matches
    ] == [
        ("9.3.3-7.el5", "CVE-2007-0493", "30:9.3.3-8.el5", "MEDIUM", "oracle"),
        ("9.3.3-7.el5", "CVE-2007-0494", "30:9.3.3-8.el5", "MEDIUM", "oracle"),
    ]
    assert all("ELSA-2007-0057" in m.advisory_ids for m in result.matches)
    assert result.matches[0].cvss_score == 5.5  # Oracle's vector, beside Oracle's own rating
    assert result.gaps == []
