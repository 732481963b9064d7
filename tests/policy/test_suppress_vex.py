"""OpenVEX statements: which findings they suppress, for which products, and which statement wins."""

from __future__ import annotations

from pathlib import Path

from schemas.records import VulnMatch
from services.policy.suppress_vex import VexFilter, parse_openvex

DOC = Path(__file__).parent / "testdata" / "vex" / "image.openvex.json"
DIGEST = "sha256:25f166467fb3acd01d0e2870534492ceef0409d67a6fb0f89d7ab42f1169ebee"


def _match(vuln: str, name: str, version: str, purl: str, *aliases: str) -> VulnMatch:
    return VulnMatch(
        vuln_id=vuln,
        package_name=name,
        package_version=version,
        package_purl=purl,
        advisory_ids=sorted({vuln, *aliases}),
    )


LOG4J = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
LODASH = "pkg:npm/lodash@4.17.15"
MINIMIST = "pkg:npm/minimist@1.2.0"


def _filter(digest: str = DIGEST) -> VexFilter:
    doc = parse_openvex(DOC.name, DOC.read_bytes())
    return VexFilter(doc.statements, image_digest=digest, image_ref="oci:fixture")


def test_statements_and_problems() -> None:
    doc = parse_openvex(DOC.name, DOC.read_bytes())
    assert len(doc.statements) == 5
    assert doc.problems == [
        "image.openvex.json#6: a not_affected statement needs a justification or impact_statement",
        "image.openvex.json#7: needs a vulnerability, products and a status in "
        "['affected', 'fixed', 'not_affected', 'under_investigation']",
    ]
    assert doc.statements[0].timestamp == "2026-11-01T09:00:00Z"  # the document's, inherited


def test_image_product_with_subcomponents() -> None:
    vex = _filter()
    # named by its GHSA alias on our side: the statement names both
    d = vex.decide(_match("CVE-2021-45046", "log4j-core", "2.14.1", LOG4J, "GHSA-7rjr-3q55-vv33"))
    assert d is not None
    assert d.kind == "vex"
    assert (
        d.reason
        == "VEX not_affected: vulnerable_code_not_in_execute_path (Thread Context lookups are not used)"
    )
    assert d.source == "image.openvex.json#1"
    # the subcomponent narrows the statement to log4j-core
    assert (
        vex.decide(
            _match(
                "CVE-2021-45046", "log4j-api", "2.14.1", "pkg:maven/org.apache.logging.log4j/log4j-api@2.14.1"
            )
        )
        is None
    )
    # another image: the statement does not apply
    assert (
        _filter("sha256:" + "1" * 64).decide(_match("CVE-2021-45046", "log4j-core", "2.14.1", LOG4J)) is None
    )


def test_latest_statement_wins_and_fixed_suppresses() -> None:
    vex = _filter()
    assert vex.decide(_match("CVE-2021-23337", "lodash", "4.17.15", LODASH)) is None  # later: affected
    d = vex.decide(_match("CVE-2020-8203", "lodash", "4.17.15", LODASH))  # bare digest, whole image
    assert d is not None
    assert d.reason == "VEX fixed"
    assert vex.decide(_match("CVE-2021-44906", "minimist", "1.2.0", MINIMIST)) is None  # other image
    assert vex.decide(_match("CVE-2020-7598", "minimist", "1.2.0", MINIMIST)) is None  # rejected statement


def test_not_json_is_a_problem() -> None:
    assert parse_openvex("x.json", b"{").problems[0].startswith("x.json: not JSON")
    assert parse_openvex("x.json", b"{}").problems == [
        "x.json: not an OpenVEX document (no `statements` list)"
    ]
