"""Amazon Linux 2023 and Oracle Linux 5 fixture images matched with their vendors' own errata.

The images (tests/fixtures/build-rpm-images.sh) hold real rpm databases written by rpm; the
records are Amazon's ALAS (updateinfo.xml) and Oracle's ELSA (OVAL, as Trivy's mirror stores it),
converted by ``python -m services.vulndb.updateinfo``, which works out each record's release.
Oracles: ``rpm -qa`` over the database taken out of the image, and ``rpm.vercmp``.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from services.vulndb import update_db
from services.vulndb.updateinfo import main as updateinfo_main
from tests.engine.catalogers.rpm.oracle import rpm_qa
from tests.harness.requirements import require
from tests.realworld.scan import assay_scan
from tests.realworld.test_rpm_images import extract_top_copy

pytestmark = pytest.mark.realworld

ERRATA = Path(__file__).parents[1] / "vulndb" / "testdata" / "updateinfo"


@pytest.fixture(scope="module")
def errata_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("errata")
    for source in ("alas2023-updateinfo.xml", "ELSA-2007-0057.json"):
        assert updateinfo_main([str(ERRATA / source), str(root / "osv")]) == 0  # no ecosystem given
    asyncio.run(update_db(str(root / "osv"), root / "vuln.db"))
    return root / "vuln.db"


def _scan(rpm_fixtures: Path, image: str, db: Path) -> dict[str, Any]:
    code, report, stderr = assay_scan(f"oci:{rpm_fixtures}/oci/{image}", db=db, args=("--no-content",))
    assert code == 0, stderr
    return report


def _vercmp_lt(a: str, b: str) -> bool:
    require(shutil.which("rpm") is not None, "rpm is needed as the version-ordering oracle")
    out = subprocess.run(
        ["rpm", "--eval", f"%{{lua: print(rpm.vercmp([[{a}]], [[{b}]]))}}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout) < 0


@pytest.mark.parametrize(
    ("image", "db_path", "backend", "distro"),
    [
        ("amzn2023", "var/lib/rpm/rpmdb.sqlite", "", ("amzn", "2023")),
        ("ol5", "var/lib/rpm/Packages", "bdb_ro", ("ol", "5.11")),
    ],
)
def test_inventory_equals_rpm_and_the_distribution_is_the_vendors(
    image: str,
    db_path: str,
    backend: str,
    distro: tuple[str, str],
    rpm_fixtures: Path,
    errata_db: Path,
    tmp_path: Path,
) -> None:
    report = _scan(rpm_fixtures, image, errata_db)
    oracle = rpm_qa(extract_top_copy(rpm_fixtures / "oci" / image, db_path, tmp_path), backend=backend)
    ours = {
        (
            p["name"],
            p["version"] if ":" in p["version"] else f"0:{p['version']}",
            p["arch"],
            p["metadata"]["sourcerpm"],
        )
        for p in report["packages"]
        if p["type"] == "rpm"
    }
    assert ours == oracle
    assert len(oracle) == 5
    # Oracle Linux 5 has no os-release and its redhat-release names RHEL: oracle-release decides
    assert (report["image"]["distro"]["id"], report["image"]["distro"]["version_id"]) == distro
    assert not [f for f in report["findings"] if f["id"].startswith("coverage:")]


def test_amazon_linux_2023_is_matched_with_alas(rpm_fixtures: Path, errata_db: Path) -> None:
    report = _scan(rpm_fixtures, "amzn2023", errata_db)
    found = {
        (m["package_name"], m["vuln_id"], m["fixed_version"], m["severity"], m["severity_source"])
        for m in report["matches"]
    }
    assert found == {
        (name, cve, "8.2204.0-3.amzn2023.0.2", "HIGH", "amazon")
        for name in ("rsyslog", "rsyslog-openssl")
        for cve in ("CVE-2014-3634", "CVE-2022-24903")
    }
    # reported by CVE as Trivy does, the ALAS kept among the ids, and the findings named the same
    assert all("ALAS2023-2023-001" in m["advisory_ids"] for m in report["matches"])
    assert {f["id"] for f in report["findings"] if f["category"] == "CVE"} == {
        "CVE-2014-3634",
        "CVE-2022-24903",
    }
    assert all(_vercmp_lt(m["package_version"], m["fixed_version"]) for m in report["matches"])
    assert {m["ecosystem"] for m in report["matches"]} == {"Amazon Linux:2023"}
    assert all(
        "https://www.cve.org/CVERecord?id=CVE-2022-24903" in m["references"] for m in report["matches"]
    )


def test_oracle_linux_5_is_matched_with_elsa(rpm_fixtures: Path, errata_db: Path) -> None:
    report = _scan(rpm_fixtures, "ol5", errata_db)
    found = {
        (m["package_name"], m["vuln_id"], m["fixed_version"], m["severity"], m["severity_source"])
        for m in report["matches"]
    }
    assert found == {
        (name, cve, "30:9.3.3-8.el5", "MEDIUM", "oracle")
        for name in ("bind", "bind-libs", "bind-utils")
        for cve in ("CVE-2007-0493", "CVE-2007-0494")
    }
    assert all("ELSA-2007-0057" in m["advisory_ids"] for m in report["matches"])
    assert all(_vercmp_lt(m["package_version"], m["fixed_version"]) for m in report["matches"])
    assert {m["ecosystem"] for m in report["matches"]} == {"Oracle Linux:5"}
