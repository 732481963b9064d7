"""Errata feeds in updateinfo.xml form (Rocky's RLSA, real records) as OSV records, matched on Rocky 8."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import msgspec
import pytest

from schemas.records import Distro, PackageRecord
from services.vulndb import VulnDB, update_db
from services.vulndb.matcher import match_packages
from services.vulndb.osv import decode_record
from services.vulndb.resolvers import RESOLVERS, Query
from services.vulndb.updateinfo import UpdateinfoError, main, records

ROCKY = Path(__file__).parent / "testdata" / "updateinfo" / "rocky8-updateinfo.xml"
ROCKY_8 = Distro(id="rocky", version_id="8.4", pretty_name="Rocky Linux 8.4 (Green Obsidian)")


def _by_id(data: bytes, ecosystem: str = "") -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in records(data, ecosystem)}


def test_each_security_update_becomes_one_osv_record() -> None:
    found = _by_id(ROCKY.read_bytes())
    assert sorted(found) == ["RLSA-2019:1972", "RLSA-2021:2575", "RLSA-2021:3057"]
    lz4 = found["RLSA-2021:2575"]
    assert (lz4["summary"], lz4["published"], lz4["modified"]) == (
        "Moderate: lz4 security update",
        "2021-07-22T03:13:55Z",
        "2021-06-29T00:00:00Z",
    )
    assert lz4["related"] == ["CVE-2021-3520"]
    assert lz4["database_specific"]["severity"] == "Moderate"
    assert lz4["affected"] == [
        {
            "package": {"ecosystem": "Rocky Linux:8", "name": "lz4"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.8.3-3.el8_4"}]}],
        }
    ]
    ruby = found["RLSA-2019:1972"]
    fixes = {a["package"]["name"]: a["ranges"][0]["events"][1]["fixed"] for a in ruby["affected"]}
    assert fixes == {  # binary and source RPM names alike, module-stream releases kept verbatim
        "rubygem-abrt": "0.3.0-4.module+el8.5.0+738+032c9c02",
        "rubygem-bson": "4.3.0-2.module+el8.4.0+592+03ff458a",
    }
    assert {"type": "ADVISORY", "url": "https://errata.rockylinux.org/RLSA-2019:1972"} in ruby["references"]
    for record in found.values():
        assert decode_record(msgspec.json.encode(record)).id == record["id"]


def test_gzip_an_explicit_ecosystem_and_non_security_updates() -> None:
    text = ROCKY.read_bytes().replace(
        b'type="security" version="2">\n    <id>RLSA-2021:3057',
        b'type="bugfix" version="2">\n    <id>RLSA-2021:3057',
    )
    found = _by_id(gzip.compress(text), "Rocky Linux:8.4-test")
    assert sorted(found) == ["RLSA-2019:1972", "RLSA-2021:2575"]  # the bugfix update is not an advisory
    assert {a["package"]["ecosystem"] for r in found.values() for a in r["affected"]} == {
        "Rocky Linux:8.4-test"
    }


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not xml at all", "not XML"),
        (b"<repomd/>", "not <updates>"),
        (b"\x1f\x8bnope", "not a gzip stream"),
        (b'<!DOCTYPE u [<!ENTITY a "aaaa">]><updates>&a;</updates>', "DTDs are not allowed"),
        (b"{nope", "not JSON"),
        (b'{"title": "no id"}', "no id"),
    ],
)
def test_other_documents_are_rejected_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(UpdateinfoError, match=reason):
        list(records(data))


def _rpm(name: str, version: str) -> PackageRecord:
    return PackageRecord(
        name=name, version=version, type="rpm", purl=f"pkg:rpm/rocky/{name}@{version}", source_name=name
    )


async def test_rocky_8_image_matched_with_its_own_errata(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    osv_dir = tmp_path / "osv"
    assert main([str(ROCKY), str(osv_dir)]) == 0
    assert "3 security updates written" in capsys.readouterr().out
    db_path = tmp_path / "db.sqlite"
    await update_db(str(osv_dir), db_path)
    packages = [
        _rpm("lz4", "1.8.3-2.el8"),  # before RLSA-2021:2575's fix
        _rpm("kernel", "4.18.0-305.19.1.el8_4"),  # already past RLSA-2021:3057's
        _rpm("rubygem-bson", "4.3.0-1.module+el8.4.0+592+03ff458a"),
    ]
    with VulnDB.open(db_path) as db:
        result = match_packages(db, ROCKY_8, packages)
    assert [
        (m.package_name, m.vuln_id, m.fixed_version, m.severity, m.severity_source) for m in result.matches
    ] == [
        ("lz4", "CVE-2021-3520", "1.8.3-3.el8_4", "MEDIUM", "rocky"),
        ("rubygem-bson", "CVE-2019-8324", "4.3.0-2.module+el8.4.0+592+03ff458a", "HIGH", "rocky"),
    ]
    assert [m.advisory_ids for m in result.matches] == [
        ["CVE-2021-3520", "RLSA-2021:2575"],
        ["CVE-2019-8324", "RLSA-2019:1972"],
    ]
    assert result.gaps == []


@pytest.mark.parametrize(
    ("distro", "ecosystem"),
    [
        (Distro(id="amzn", version_id="2023"), "Amazon Linux:2023"),
        (Distro(id="amzn", version_id="2"), "Amazon Linux:2"),
        (Distro(id="amzn", version_id="2018.03"), "Amazon Linux:1"),  # the Amazon Linux AMI
        (Distro(id="ol", version_id="8.9"), "Oracle Linux:8"),
    ],
)
def test_amazon_and_oracle_resolve_to_their_errata_ecosystems(distro: Distro, ecosystem: str) -> None:
    query = RESOLVERS["rpm"](distro, _rpm("curl", "8.3.0-1.amzn2.0.13"))
    assert isinstance(query, Query)
    assert query.ecosystems == (ecosystem,)
    # Oracle Linux rebuilds RHEL: Red Hat's (then AlmaLinux's, Rocky's) records stand in; Amazon is no rebuild
    assert bool(query.fallbacks) == (distro.id == "ol")


ALAS = Path(__file__).parent / "testdata" / "updateinfo" / "ALAS2-2018-939.json"
AMAZON_2 = Distro(id="amzn", version_id="2", pretty_name="Amazon Linux 2")


def test_an_alas_update_from_the_vuln_list_mirror() -> None:
    rlsa = ALAS.read_bytes().replace(b'"ALAS2-2018-939"', b'"RLSA-2021:2575"')
    with pytest.raises(UpdateinfoError, match="give its ecosystem"):
        list(records(rlsa))  # a JSON update whose id names no release
    assert list(records(ALAS.read_bytes())) == list(records(ALAS.read_bytes(), "Amazon Linux:2"))
    (alas,) = records(ALAS.read_bytes(), "Amazon Linux:2")
    assert (alas["id"], alas["database_specific"]["severity"], alas["published"]) == (
        "ALAS2-2018-939",
        "critical",
        "2018-01-11T21:05:00Z",
    )
    assert alas["related"] == ["CVE-2017-5754", "CVE-2017-5715"]
    names = {a["package"]["name"]: a["ranges"][0]["events"][1]["fixed"] for a in alas["affected"]}
    assert len(names) == 13
    assert names["kernel"] == names["perf"] == "4.9.76-38.79.amzn2"


async def test_amazon_linux_2_matched_with_alas(tmp_path: Path) -> None:
    osv_dir = tmp_path / "osv"
    assert main([str(ALAS), "Amazon Linux:2", str(osv_dir)]) == 0
    db_path = tmp_path / "db.sqlite"
    await update_db(str(osv_dir), db_path)
    kernel = PackageRecord(
        name="kernel",
        version="4.9.75-25.55.amzn2",
        type="rpm",
        purl="pkg:rpm/amazon/kernel@4.9.75-25.55.amzn2",
        source_name="kernel",
    )
    patched = msgspec.structs.replace(kernel, version="4.9.76-38.79.amzn2", purl="pkg:rpm/amazon/kernel@p")
    with VulnDB.open(db_path) as db:
        result = match_packages(db, AMAZON_2, [kernel, patched])
    # reported by the CVEs the ALAS fixes, as Trivy does, each keeping the ALAS id and its rating
    assert [(m.package_version, m.vuln_id, m.severity, m.severity_source) for m in result.matches] == [
        ("4.9.75-25.55.amzn2", "CVE-2017-5715", "CRITICAL", "amazon"),
        ("4.9.75-25.55.amzn2", "CVE-2017-5754", "CRITICAL", "amazon"),
    ]
    assert all("ALAS2-2018-939" in m.advisory_ids for m in result.matches)
    assert result.gaps == []


ALAS2023 = Path(__file__).parent / "testdata" / "updateinfo" / "alas2023-updateinfo.xml"


@pytest.mark.parametrize(
    ("ident", "ecosystem"),
    [
        ("ALAS2023-2023-001", "Amazon Linux:2023"),
        ("ALAS2-2023-1958", "Amazon Linux:2"),
        ("ALAS-2018-1001", "Amazon Linux:1"),
        ("ALAS2KERNEL-5.10-2022-001", "Amazon Linux:2"),  # Amazon Linux 2's Extras
        ("ALAS2NITRO-ENCLAVES-2023-002", "Amazon Linux:2"),
    ],
)
def test_amazons_updateinfo_names_its_release_in_the_collection_or_the_id(ident: str, ecosystem: str) -> None:
    data = ALAS2023.read_bytes()
    (rec,) = records(data)  # no <release>: the collection's <name> says "Amazon Linux 2023"
    assert {a["package"]["ecosystem"] for a in rec["affected"]} == {"Amazon Linux:2023"}
    assert {a["package"]["name"] for a in rec["affected"]} == {"rsyslog", "rsyslog-openssl"}
    bare = data.replace(b"<name>Amazon Linux 2023</name>", b"").replace(
        b"ALAS2023-2023-001</id>", f"{ident}</id>".encode()
    )
    (rec,) = records(bare)  # nor a collection name: the id prefix names the release
    assert {a["package"]["ecosystem"] for a in rec["affected"]} == {ecosystem}
