"""severity.assess: CVSS v2/v3/v4 scores from vectors, vendor ratings for OS packages, sources."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from services.vulndb import VulnDB, update_db
from services.vulndb.db import Advisory, AffectedPackage
from services.vulndb.osv import Severity, decode_record
from services.vulndb.severity import Assessment, assess, cvss_score, rank, rating

TESTDATA = Path(__file__).parent / "testdata" / "severity"


@pytest_asyncio.fixture(scope="module")
async def severity_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("severity") / "db.sqlite"
    await update_db(str(TESTDATA), path)
    return path


@pytest.fixture
def db(severity_db_path: Path) -> Iterator[VulnDB]:
    with VulnDB.open(severity_db_path) as handle:
        yield handle


def _one(db: VulnDB, ecosystem: str, package: str, advisory_id: str) -> Advisory:
    (found,) = [a for a in db.advisories_for(ecosystem, package) if a.id == advisory_id]
    return found


# Published base scores (FIRST specification examples / NVD), not the library's own output.
@pytest.mark.parametrize(
    ("vector", "expected"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ("cvss_v3", 9.8)),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", ("cvss_v3", 8.8)),
        ("CVSS:3.0/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ("cvss_v3", 6.8)),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:N/A:H", ("cvss_v3", 8.6)),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", ("cvss_v3", 0.0)),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", ("cvss_v4", 9.3)),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", ("cvss_v2", 7.5)),
        ("AV:N/AC:L/Au:N/C:N/I:N/A:P", ("cvss_v2", 5.0)),
    ],
)
def test_cvss_base_scores(vector: str, expected: tuple[str, float]) -> None:
    found = cvss_score(vector)
    assert found is not None
    assert found[:2] == expected


@pytest.mark.parametrize(
    "vector",
    [
        "CVSS:3.1/AV:N/AC:L",
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:4.0/AV:N",
        "high",
        "",
        "AV:Q",
    ],
)
def test_malformed_vectors_are_ignored(vector: str) -> None:
    assert cvss_score(vector) is None


def test_ratings_follow_each_specification() -> None:
    assert [rating(s, "cvss_v3") for s in (0.0, 0.1, 3.9, 4.0, 6.9, 7.0, 8.9, 9.0, 10.0)] == [
        "NONE", "LOW", "LOW", "MEDIUM", "MEDIUM", "HIGH", "HIGH", "CRITICAL", "CRITICAL",
    ]  # fmt: skip
    # CVSS v2 has no Critical: NVD's v2 ranges are Low 0-3.9, Medium 4-6.9, High 7-10.
    assert [rating(s, "cvss_v2") for s in (0.0, 3.9, 4.0, 7.0, 10.0)] == [
        "LOW",
        "LOW",
        "MEDIUM",
        "HIGH",
        "HIGH",
    ]
    assert rank("CRITICAL") > rank("HIGH") > rank("MEDIUM") > rank("LOW") > rank("NONE") == rank("UNKNOWN")


def test_red_hat_rating_wins_over_cvss(db: VulnDB) -> None:
    adv = _one(db, "Red Hat:enterprise_linux:8::appstream", "ruby", "RHSA-2023:3821")
    assert assess(adv, "Red Hat:enterprise_linux:8::appstream") == Assessment(
        severity="MEDIUM",  # "Moderate", although the CVSS vector alone says HIGH (8.8)
        score=8.8,
        vector="CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
        source="redhat",
    )
    assert adv.related == ("CVE-2021-33621", "CVE-2023-28755", "CVE-2023-28756")


def test_ubuntu_priority_wins_over_cvss(db: VulnDB) -> None:
    adv = _one(db, "Ubuntu:16.04:LTS", "seahorse", "UBUNTU-CVE-2008-7320")
    got = assess(adv, "Ubuntu:16.04:LTS")
    assert (got.severity, got.source, got.score) == ("LOW", "ubuntu", 6.8)


def test_cvss_v4_preferred_over_v3_for_language_packages(db: VulnDB) -> None:
    got = assess(_one(db, "PyPI", "ultralytics", "PYSEC-2024-154"), "PyPI")
    assert (got.source, got.score, got.severity) == ("cvss_v4", 8.7, "HIGH")
    assert got.vector.startswith("CVSS:4.0/")


def test_ghsa_word_when_there_is_no_vector(db: VulnDB) -> None:
    got = assess(_one(db, "npm", "axios", "GHSA-wf5p-g6vw-rhxx"), "npm")
    assert got == Assessment(severity="MEDIUM", source="ghsa")


def test_bare_scores_without_vectors(db: VulnDB) -> None:
    ruby = assess(_one(db, "RubyGems", "RedCloth", "x_RUBYSEC-RedCloth-CVE-2023-31606"), "RubyGems")
    assert ruby == Assessment(severity="HIGH", score=7.5, source="cvss_v3")
    maven = _one(db, "Maven", "org.springframework:spring-core", "x_VICTIMS-CVE-2009-1190")
    assert assess(maven, "Maven") == Assessment(severity="MEDIUM", score=5.0, source="cvss_v2")


def _debian(urgency: str | None, vector: str = "") -> Advisory:
    # Shaped like osv.dev's DEBIAN-CVE records: the tracker urgency in ecosystem_specific.
    return Advisory(
        id="DEBIAN-CVE-2024-2398",
        severity=(Severity(type="CVSS_V3", score=vector),) if vector else (),
        affected=(
            AffectedPackage(
                ecosystem="Debian:12",
                package="curl",
                ecosystem_specific={"urgency": urgency} if urgency else None,
            ),
        ),
    )


def test_debian_urgency() -> None:
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:N/A:H"
    assert assess(_debian("unimportant", vector), "Debian:12") == Assessment(
        severity="LOW", score=8.6, vector=vector, source="debian"
    )
    # "not yet assigned" is no rating: the CVSS vector decides.
    assert assess(_debian("not yet assigned", vector), "Debian:12").source == "cvss_v3"
    assert assess(_debian(None), "Debian:12") == Assessment()
    # The same advisory seen as a language package ignores distro words.
    assert assess(_debian("unimportant", vector), "PyPI").source == "cvss_v3"


def test_every_real_record_is_assessed_without_raising(vulndata: Path, tmp_path: Path) -> None:
    sources: dict[str, int] = {}
    for zip_path in sorted(vulndata.glob("*/all.zip")):
        with zipfile.ZipFile(zip_path) as zf:
            for name in zf.namelist():
                rec = decode_record(zf.read(name))
                raw = json.loads(zf.read(name))
                adv = Advisory(
                    id=rec.id,
                    severity=rec.severity or (),
                    database_specific=raw.get("database_specific"),
                    affected=tuple(
                        AffectedPackage(
                            ecosystem=a["package"]["ecosystem"],
                            package=a["package"]["name"],
                            ecosystem_specific=a.get("ecosystem_specific"),
                        )
                        for a in raw.get("affected", [])
                        if a.get("package")
                    ),
                )
                eco = adv.affected[0].ecosystem if adv.affected else ""
                got = assess(adv, eco)
                sources[got.source] = sources.get(got.source, 0) + 1
                if any(s.type.startswith("CVSS_V") and s.score.startswith("CVSS:") for s in adv.severity):
                    assert got.vector or got.source in ("ubuntu", "redhat"), rec.id
    assert {"cvss_v3", "cvss_v4", "ubuntu", "redhat", "ghsa", ""} <= set(sources)
