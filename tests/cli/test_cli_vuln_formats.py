"""SARIF 2.1.0 and the CycloneDX vulnerabilities section, rendered from a report with real-shaped matches."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from schemas.events import ScanCompleted
from schemas.records import Distro, ImageInfo, LayerInfo, PackageRecord, VulnMatch
from services.cli.formats import formatter
from services.cli.formats.sarif import to_sarif
from services.policy.assess import assess
from services.policy.report import Report, Suppressed
from services.policy.ruleset import DEFAULT_RULESET, cve_finding
from services.policy.sbom.cyclonedx import build_bom
from services.policy.sbom.cyclonedx_vulns import add_vulnerabilities
from services.policy.suppress import IgnoreRule
from services.policy.suppress_accept import Acceptance
from services.vulndb.coverage import no_advisories

LAYER = "sha256:" + "62" * 32
DIGEST = "sha256:" + "25" * 32
LOG4J = PackageRecord(
    name="log4j-core",
    version="2.14.1",
    type="maven",
    purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
    layer_digest=LAYER,
    locations=["/opt/javaapp/lib/log4j-core-2.14.1.jar"],
)
LEFTPAD = PackageRecord(name="left-pad", version="1.1.0", type="npm", purl="pkg:npm/left-pad@1.1.0")
MATCHES = [
    VulnMatch(
        vuln_id="CVE-2021-44228",
        package_name="log4j-core",
        package_version="2.14.1",
        package_purl=LOG4J.purl,
        advisory_ids=["CVE-2021-44228", "GHSA-jfh8-c2jp-5v3q"],
        ecosystem="Maven",
        fixed_version="2.15.0",
        fix_state="fixed",
        severity="CRITICAL",
        cvss_score=10.0,
        cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
        severity_source="cvss_v3",
        known_exploited=True,
        summary="Remote code injection in Log4j",
        details="Apache Log4j2 JNDI features do not protect against attacker controlled LDAP endpoints.",
        layer_digest=LAYER,
        references=["https://nvd.nist.gov/vuln/detail/CVE-2021-44228"],
    ),
    VulnMatch(
        vuln_id="CVE-2021-45046",
        package_name="log4j-core",
        package_version="2.14.1",
        package_purl=LOG4J.purl,
        advisory_ids=["CVE-2021-45046", "GHSA-7rjr-3q55-vv33"],
        ecosystem="Maven",
        fixed_version="2.16.0",
        fix_state="fixed",
        severity="CRITICAL",
        layer_digest=LAYER,
    ),
    VulnMatch(
        vuln_id="GHSA-npm2-nofx-0000",
        package_name="left-pad",
        package_version="1.1.0",
        package_purl=LEFTPAD.purl,
        advisory_ids=["GHSA-npm2-nofx-0000"],
        ecosystem="npm",
        fix_state="not-fixed",
        severity="LOW",
    ),
]


@pytest.fixture
def report() -> Report:
    detections = ScanCompleted(
        scan_id="s1",
        image=ImageInfo(
            ref="registry.example.com/app:1",
            digest=DIGEST,
            layers=[LayerInfo(digest=LAYER)],
            distro=Distro(id="debian", version_id="11"),
        ),
        packages=[LOG4J, LEFTPAD],
        matches=MATCHES,
        notes=[no_advisories("PyPI", "pypi").note()],
        analyzer_version="0.1.0",
        completed_at="2026-11-23T10:00:00Z",
    )
    rule = IgnoreRule(id="GHSA-7rjr-3q55-vv33", reason="not reachable", source="ignore.yaml#1")
    return assess(detections, Acceptance(rules=[rule]), dt.date(2026, 11, 23))


def test_assembled_report(report: Report) -> None:
    assert [(s.finding.id, s.kind, s.reason) for s in report.suppressed] == [
        ("CVE-2021-45046", "ignore", "not reachable")
    ]
    assert [(f.category, f.id) for f in report.findings] == [
        ("CVE", "CVE-2021-44228"),
        ("CVE", "GHSA-npm2-nofx-0000"),
        ("Coverage", "coverage:no-advisories:PyPI"),
        ("Coverage", "coverage:eol-distro:debian-11"),
        ("ImageScan", "threshold:default"),
    ]
    table = formatter("table")(report)
    assert "KEV" in table
    assert "(not fixed)" in table
    assert "1 findings suppressed (ignore: 1)" in table
    decoded = json.loads(formatter("json")(report))
    assert decoded["suppressed"][0]["finding"]["id"] == "CVE-2021-45046"
    assert decoded["matches"][0]["known_exploited"] is True


def _check_sarif_structure(log: dict[str, Any]) -> None:
    # The SARIF 2.1.0 schema's required properties, for what this log uses (no schema file ships in a wheel).
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    for run in log["runs"]:
        driver = run["tool"]["driver"]
        assert isinstance(driver["name"], str)
        ids = [r["id"] for r in driver["rules"]]
        assert len(ids) == len(set(ids))
        for rule in driver["rules"]:
            assert rule["shortDescription"]["text"]
            assert rule["defaultConfiguration"]["level"] in ("none", "note", "warning", "error")
        for result in run["results"]:
            assert result["message"]["text"]
            assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
            assert result["level"] in ("none", "note", "warning", "error")
            for loc in result["locations"]:
                assert loc["physicalLocation"]["artifactLocation"]["uri"]
                assert loc["physicalLocation"]["region"]["startLine"] >= 1
            for sup in result.get("suppressions", []):
                assert sup["kind"] in ("inSource", "external")
                assert sup["status"] in ("accepted", "underReview", "rejected")


def test_sarif(report: Report) -> None:
    log = json.loads(formatter("sarif")(report))
    _check_sarif_structure(log)
    (run,) = log["runs"]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["CVE-2021-44228"]["properties"]["security-severity"] == "10.0"
    assert rules["CVE-2021-45046"]["properties"]["security-severity"] == "9.5"  # no score: the band's
    assert rules["GHSA-npm2-nofx-0000"]["properties"]["security-severity"] == "2.0"
    assert rules["CVE-2021-44228"]["helpUri"] == "https://nvd.nist.gov/vuln/detail/CVE-2021-44228"
    results = {r["ruleId"]: r for r in run["results"]}
    log4shell = results["CVE-2021-44228"]
    assert log4shell["level"] == "error"
    assert log4shell["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "opt/javaapp/lib/log4j-core-2.14.1.jar"
    )
    assert log4shell["properties"]["knownExploited"] is True
    assert "Known Exploited" in log4shell["message"]["text"]
    assert results["GHSA-npm2-nofx-0000"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "registry.example.com/app:1"  # no file known: the image
    )
    assert results["CVE-2021-45046"]["suppressions"][0]["justification"] == "not reachable"
    assert "suppressions" not in log4shell
    assert results["coverage:eol-distro:debian-11"]["level"] == "warning"
    assert "threshold:default" not in results


def test_cyclonedx_vulnerabilities_validate_against_the_1_6_schema(report: Report) -> None:
    bom = add_vulnerabilities(build_bom(report), report)
    text = JsonV1Dot6(bom).output_as_string(indent=2)
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert errors is None, errors
    doc = json.loads(text)
    vulns = {v["id"]: v for v in doc["vulnerabilities"]}
    assert set(vulns) == {"CVE-2021-44228", "CVE-2021-45046", "GHSA-npm2-nofx-0000"}
    log4shell = vulns["CVE-2021-44228"]
    assert log4shell["affects"] == [
        {"ref": LOG4J.purl, "versions": [{"version": "2.14.1", "status": "affected"}]}
    ]
    assert log4shell["references"] == [
        {
            "id": "GHSA-jfh8-c2jp-5v3q",
            "source": {"name": "GitHub", "url": "https://github.com/advisories/GHSA-jfh8-c2jp-5v3q"},
        }
    ]
    assert log4shell["ratings"][0]["score"] == 10.0
    assert log4shell["ratings"][0]["method"] == "CVSSv31"
    assert log4shell["recommendation"] == "Upgrade to log4j-core 2.15.0"
    assert {"name": "assay:knownExploited", "value": "true"} in log4shell["properties"]
    assert vulns["CVE-2021-45046"]["analysis"]["state"] == "not_affected"
    assert "analysis" not in log4shell
    components = {c["bom-ref"] for c in doc["components"]}
    assert all(a["ref"] in components for v in doc["vulnerabilities"] for a in v["affects"])


def test_sarif_of_an_empty_report_is_valid() -> None:
    empty = Report(image=ImageInfo(ref="dir:/x"), packages=[], findings=[], counts={})
    log = to_sarif(empty)
    _check_sarif_structure(log)
    assert log["runs"][0]["results"] == []


def test_suppressed_are_listed_in_sarif_even_without_active_findings() -> None:
    finding = cve_finding(DEFAULT_RULESET, MATCHES[0], digest=DIGEST)
    rep = Report(
        image=ImageInfo(ref="dir:/x"),
        packages=[LOG4J],
        findings=[],
        counts={},
        matches=MATCHES[:1],
        suppressed=[
            Suppressed(finding=finding, reason="VEX not_affected: component_not_present", kind="vex")
        ],
    )
    (result,) = to_sarif(rep)["runs"][0]["results"]
    assert result["suppressions"][0]["status"] == "accepted"


def test_content_detections_are_sarif_results_at_their_file() -> None:
    from schemas.records import Detection
    from services.policy.ruleset import detection_finding

    leaked = Detection(
        category="InsecureContent",
        rule_id="github-pat",
        severity="HIGH",
        title="GitHub personal access token (classic)",
        path="/srv/deploy.sh",
        layer_digest=LAYER,
        evidence="line 2: ghp_…1fede932",
        deleted=True,
    )
    root = Detection(category="InsecureCode", rule_id="IC001-root-user", severity="MEDIUM", title="root")
    findings = [detection_finding(DEFAULT_RULESET, d, digest=DIGEST) for d in (leaked, root)]
    rep = Report(image=ImageInfo(ref="dir:/x"), packages=[], findings=findings, counts={})
    log = to_sarif(rep)
    _check_sarif_structure(log)
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    pat = results["github-pat"]
    assert pat["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "srv/deploy.sh"
    assert pat["properties"]["evidence"] == "line 2: ghp_…1fede932"
    assert pat["properties"]["deletedLater"] is True
    assert pat["level"] == "error"
    assert (
        results["IC001-root-user"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "dir:/x"
    )
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["github-pat"]["properties"]["tags"] == ["security", "InsecureContent"]
