"""match_packages per ecosystem, the owner rule, alias merging and fix states, on synthetic OSV records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from schemas.records import Distro, PackageRecord, VulnMatch
from services.vulndb import VulnDB, update_db
from services.vulndb.matcher import match_packages, merge_aliases
from services.vulndb.resolvers import RESOLVERS, Query, pep503
from services.vulndb.versions import comparator

RECORDS = Path(__file__).parent / "testdata" / "matcher"
BOOKWORM = Distro(id="debian", version_id="12", pretty_name="Debian GNU/Linux 12 (bookworm)")
JAMMY = Distro(id="ubuntu", version_id="22.04")
RHEL9 = Distro(id="rhel", version_id="9.3")


@pytest_asyncio.fixture(scope="session")
async def synthetic_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("vulndb") / "synthetic.sqlite"
    stats = await update_db(str(RECORDS), path)
    assert stats.error_count == 0
    return path


@pytest.fixture
def db(synthetic_db_path: Path) -> Iterator[VulnDB]:
    with VulnDB.open(synthetic_db_path) as handle:
        yield handle


def pkg(ptype: str, name: str, version: str, purl: str, **kw: str) -> PackageRecord:
    return PackageRecord(name=name, version=version, type=ptype, purl=purl, **kw)  # type: ignore[arg-type]


def one(db: VulnDB, p: PackageRecord, distro: Distro | None = BOOKWORM) -> dict[str, VulnMatch]:
    result = match_packages(db, distro, [p])
    return {m.vuln_id: m for m in result.matches}


def test_pypi_names_are_pep503_normalised(db: VulnDB) -> None:
    assert pep503("Zope.Interface") == "zope-interface" == pep503("zope__interface")
    found = one(db, pkg("pypi", "Zope.Interface", "4.1", "pkg:pypi/zope.interface@4.1"))
    assert set(found) == {"CVE-2099-0001"}
    assert found["CVE-2099-0001"].ecosystem == "PyPI"


def test_alias_chain_is_one_match_named_by_cve_with_smallest_fix(db: VulnDB) -> None:
    # GHSA-aaaa (fixed 4.5, alias PYSEC-2099-1) and PYSEC-2099-1 (fixed 5.0, alias the CVE): one vuln.
    (m,) = one(db, pkg("pypi", "zope.interface", "4.1", "pkg:pypi/zope.interface@4.1")).values()
    assert m.vuln_id == "CVE-2099-0001"
    assert m.advisory_ids == ["CVE-2099-0001", "GHSA-aaaa-bbbb-cccc", "PYSEC-2099-1"]
    assert m.fixed_version == "4.5"
    assert m.fix_state == "fixed"
    assert m.severity == "HIGH"  # the GHSA's rating; the PYSEC record has none
    # Above the GHSA's range only the PYSEC record applies: its fix is the one to report.
    (m,) = one(db, pkg("pypi", "zope.interface", "4.6", "pkg:pypi/zope.interface@4.6")).values()
    assert (m.vuln_id, m.fixed_version) == ("CVE-2099-0001", "5.0")


def test_merge_aliases_without_any_cve_prefers_ghsa() -> None:
    a = VulnMatch(
        vuln_id="PYSEC-1", package_name="x", package_version="1", package_purl="p", advisory_ids=["PYSEC-1"]
    )
    b = VulnMatch(
        vuln_id="GHSA-x",
        package_name="x",
        package_version="1",
        package_purl="p",
        advisory_ids=["GHSA-x", "PYSEC-1"],
    )
    (m,) = merge_aliases([a, b], comparator("PyPI"))
    assert (m.vuln_id, m.advisory_ids) == ("GHSA-x", ["GHSA-x", "PYSEC-1"])


def test_npm_scoped_name_from_purl(db: VulnDB) -> None:
    found = one(db, pkg("npm", "@babel/traverse", "7.23.0", "pkg:npm/%40babel/traverse@7.23.0"))
    assert found["CVE-2099-0003"].fixed_version == "7.23.2"
    assert one(db, pkg("npm", "@babel/traverse", "7.23.2", "pkg:npm/%40babel/traverse@7.23.2")) == {}


def test_unfixed_and_last_affected(db: VulnDB) -> None:
    found = one(db, pkg("npm", "left-pad", "1.1.0", "pkg:npm/left-pad@1.1.0"))
    assert found["CVE-2099-0004"].fix_state == "not-fixed"
    assert found["CVE-2099-0004"].fixed_version == ""
    assert found["GHSA-npm3-last-0000"].fix_state == "not-fixed"
    assert "GHSA-npm3-last-0000" not in one(db, pkg("npm", "left-pad", "1.3.1", "pkg:npm/left-pad@1.3.1"))


def test_maven_uses_group_and_artifact(db: VulnDB) -> None:
    found = one(db, pkg("maven", "widget", "2.14.1", "pkg:maven/org.example/widget@2.14.1"))
    assert found["CVE-2099-0005"].fixed_version == "2.15.0"
    result = match_packages(db, None, [pkg("maven", "widget", "2.14.1", "pkg:maven/widget@2.14.1")])
    assert result.matches == []
    assert result.notes == ["maven package widget 2.14.1 not matched: no groupId is known for it"]


def test_go_module_and_stdlib(db: VulnDB) -> None:
    found = one(db, pkg("golang", "golang.org/x/text", "v0.3.0", "pkg:golang/golang.org/x/text@v0.3.0"))
    assert found["CVE-2099-0006"].fixed_version == "0.3.3"
    assert found["CVE-2099-0006"].advisory_ids == ["CVE-2099-0006", "GHSA-go01-0000-0000", "GO-2099-0001"]
    assert one(db, pkg("golang", "stdlib", "go1.20.4", "pkg:golang/stdlib@go1.20.4"))[
        "CVE-2099-0007"
    ].fixed_version == ("1.20.5")
    assert one(db, pkg("golang", "stdlib", "go1.21.0", "pkg:golang/stdlib@go1.21.0"))[
        "CVE-2099-0007"
    ].fixed_version == ("1.21.1")
    assert one(db, pkg("golang", "stdlib", "go1.21.1", "pkg:golang/stdlib@go1.21.1")) == {}


@pytest.mark.parametrize(
    ("package", "vuln", "fixed"),
    [
        (pkg("gem", "nokogiri", "1.13.9", "pkg:gem/nokogiri@1.13.9"), "CVE-2099-0008", "1.13.10"),
        (
            pkg("nuget", "Newtonsoft.Json", "12.0.3", "pkg:nuget/Newtonsoft.Json@12.0.3"),
            "CVE-2099-0009",
            "13.0.1",
        ),
        (pkg("cargo", "smallvec", "1.6.0", "pkg:cargo/smallvec@1.6.0"), "CVE-2099-0010", "1.6.1"),
        (
            pkg("composer", "framework", "8.22.0", "pkg:composer/laravel/framework@8.22.0"),
            "CVE-2099-0011",
            "8.22.1",
        ),
    ],
)
def test_other_language_ecosystems(db: VulnDB, package: PackageRecord, vuln: str, fixed: str) -> None:
    assert one(db, package)[vuln].fixed_version == fixed


def test_language_package_owned_by_a_deb_uses_the_distro_records(db: VulnDB) -> None:
    deb = pkg(
        "deb",
        "python3-requests",
        "2.28.1+dfsg-1",
        "pkg:deb/debian/python3-requests@2.28.1%2Bdfsg-1?arch=all&distro=debian-12",
        source_name="requests",
    )
    # Owner not in the inventory: its purl's `upstream` qualifier names the Debian source package.
    orphan = pkg(
        "pypi",
        "requests",
        "2.28.1",
        "pkg:pypi/requests@2.28.1",
        owner="pkg:deb/debian/python3-requests@2.28.1%2Bdfsg-1?arch=all&upstream=requests",
    )
    found = one(db, orphan)
    # The upstream PyPI record (fixed 2.20.0, so 2.28.1 is clean) is not used; Debian's three records are.
    assert set(found) == {"CVE-2099-0002", "CVE-2099-0012", "CVE-2099-0013"}
    assert {m.ecosystem for m in found.values()} == {"Debian:12"}
    assert {m.package_purl for m in found.values()} == {orphan.purl}
    assert found["CVE-2099-0002"].fixed_version == "2.28.1+dfsg-1+deb12u1"
    assert found["CVE-2099-0002"].advisory_ids == ["CVE-2099-0002", "DEBIAN-CVE-2099-0002"]
    # Unowned, the same version is judged by the upstream record only: not affected.
    assert one(db, pkg("pypi", "requests", "2.28.1", "pkg:pypi/requests@2.28.1")) == {}
    # Owned, and the old upstream version 2.19 would be affected upstream: the distro's word counts.
    old = pkg("pypi", "requests", "2.19.0", "pkg:pypi/requests@2.19.0", owner=orphan.owner)
    assert "CVE-2099-0002" in one(db, old)
    assert "PYSEC-2099-2" not in {i for m in one(db, old).values() for i in m.advisory_ids}
    # Owner in the inventory: the deb carries the findings, the owned copy does not repeat them.
    owned = pkg("pypi", "requests", "2.28.1", "pkg:pypi/requests@2.28.1", owner=deb.purl)
    result = match_packages(db, BOOKWORM, [deb, owned])
    assert {m.package_purl for m in result.matches} == {deb.purl}
    assert {m.vuln_id for m in result.matches} == set(found)


def test_debian_fix_states(db: VulnDB) -> None:
    deb = pkg(
        "deb",
        "python3-requests",
        "2.28.1+dfsg-1",
        "pkg:deb/debian/python3-requests@2.28.1",
        source_name="requests",
    )
    found = one(db, deb)
    assert found["CVE-2099-0002"].fix_state == "fixed"
    assert found["CVE-2099-0012"].fix_state == "wont-fix"  # tracker urgency "unimportant"
    assert found["CVE-2099-0013"].fix_state == "not-fixed"


def test_debian_package_never_matches_other_ecosystems(db: VulnDB) -> None:
    # "requests" has a PyPI record affecting 2.19; a Debian package of that source must not see it.
    deb = pkg(
        "deb",
        "python3-requests",
        "2.19.0-1",
        "pkg:deb/debian/python3-requests@2.19.0-1",
        source_name="requests",
    )
    assert {m.ecosystem for m in match_packages(db, BOOKWORM, [deb]).matches} == {"Debian:12"}
    assert "PYSEC-2099-2" not in {
        i for m in match_packages(db, BOOKWORM, [deb]).matches for i in m.advisory_ids
    }


def test_ubuntu_lts_and_deferred(db: VulnDB) -> None:
    curl = pkg(
        "deb", "curl", "7.81.0-1ubuntu1.14", "pkg:deb/ubuntu/curl@7.81.0-1ubuntu1.14", source_name="curl"
    )
    found = one(db, curl, JAMMY)
    assert found["CVE-2099-0014"].fix_state == "wont-fix"
    assert found["CVE-2099-0014"].ecosystem == "Ubuntu:22.04:LTS"
    assert found["CVE-2099-0015"].fixed_version == "7.81.0-1ubuntu1.15"


def test_rhel_binary_rpm_in_every_stream(db: VulnDB) -> None:
    py = pkg(
        "rpm",
        "python3.11",
        "3.11.5-1.el9",
        "pkg:rpm/redhat/python3.11@3.11.5-1.el9",
        source_name="python3.11",
    )
    ssl = pkg(
        "rpm",
        "openssl-libs",
        "3.0.7-24.el9",
        "pkg:rpm/redhat/openssl-libs@3.0.7-24.el9?epoch=1",
        source_name="openssl",
        metadata={"epoch": "1"},  # type: ignore[arg-type]
    )
    result = match_packages(db, RHEL9, [py, ssl])
    got = {(m.package_name, m.vuln_id, m.ecosystem) for m in result.matches}
    assert got == {
        ("python3.11", "RHSA-2099:0001", "Red Hat:enterprise_linux:9::appstream"),
        ("openssl-libs", "RHSA-2099:0002", "Red Hat:enterprise_linux:9::baseos"),
    }


def test_gaps_for_missing_data_and_unknown_distros(db: VulnDB) -> None:
    result = match_packages(
        db,
        Distro(id="fedora", version_id="40"),
        [
            pkg("rpm", "bash", "5.2-1.fc40", "pkg:rpm/fedora/bash@5.2-1.fc40"),
            pkg("hex", "plug", "1.0.0", "pkg:hex/plug@1.0.0"),
        ],
    )
    assert [g.id for g in result.gaps] == ["coverage:unsupported-distro:fedora-40"]
    assert result.notes == [
        "rpm packages on fedora 40 are not matched [coverage:unsupported-distro:fedora-40]",
        "hex packages are not matched yet",
    ]
    result = match_packages(
        db, Distro(id="alpine", version_id="3.20.3"), [pkg("apk", "musl", "1.2.5-r0", "p")]
    )
    assert [(g.id, g.severity) for g in result.gaps] == [("coverage:no-advisories:Alpine:v3.20", "MEDIUM")]
    result = match_packages(db, None, [pkg("deb", "curl", "1", "p")])
    assert [g.id for g in result.gaps] == ["coverage:unknown-distro:deb"]


def test_every_resolver_answers_a_query_for_a_plain_package() -> None:
    distros = {"rpm": RHEL9, "apk": Distro(id="alpine", version_id="3.20.3")}
    for ptype, resolver in RESOLVERS.items():
        got = resolver(distros.get(ptype, BOOKWORM), pkg(ptype, "a", "1.0", f"pkg:{ptype}/g/a@1.0"))
        assert isinstance(got, Query), ptype


def test_listed_versions_take_their_fix_from_fix_versions(db: VulnDB) -> None:
    enc = "System.Text.Encodings.Web"
    found = one(db, pkg("nuget", enc, "4.5.0", f"pkg:nuget/{enc}@4.5.0"))
    assert (found["CVE-2099-0016"].fixed_version, found["CVE-2099-0016"].fix_state) == ("4.5.1", "fixed")
    assert one(db, pkg("nuget", enc, "4.5.1", f"pkg:nuget/{enc}@4.5.1")) == {}
