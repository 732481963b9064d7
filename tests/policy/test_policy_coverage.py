"""The default ruleset: CVE findings, Coverage findings for gaps, and thresholds that count CVEs only."""

from __future__ import annotations

from schemas.records import VulnMatch
from services.policy.ruleset import DEFAULT_RULESET, Ruleset, evaluate
from services.vulndb.coverage import no_advisories, unknown_distro

DIGEST = "sha256:" + "ab" * 32


def _match(n: int, severity: str) -> VulnMatch:
    return VulnMatch(
        vuln_id=f"CVE-2099-{n:04d}",
        package_name="pkg",
        package_version="1.0",
        package_purl="pkg:npm/pkg@1.0",
        severity=severity,
        fixed_version="1.1",
        fix_state="fixed",
    )


def test_gaps_become_coverage_findings() -> None:
    gaps = [no_advisories("npm", "npm"), unknown_distro("deb")]
    outcome = evaluate(DEFAULT_RULESET, digest=DIGEST, matches=[_match(1, "HIGH")], gaps=gaps)
    coverage = [f for f in outcome.findings if f.category == "Coverage"]
    assert [(f.id, f.severity) for f in coverage] == [
        ("coverage:no-advisories:npm", "LOW"),
        ("coverage:unknown-distro:deb", "MEDIUM"),
    ]
    assert coverage[0].description.startswith("no advisories for npm in the database")
    assert len({f.finding_id for f in outcome.findings}) == len(outcome.findings)
    # the same gap on the same image keeps its finding id
    again = evaluate(DEFAULT_RULESET, digest=DIGEST, matches=[], gaps=gaps[:1])
    assert again.findings[0].finding_id == coverage[0].finding_id


def test_thresholds_and_counts_ignore_coverage_findings() -> None:
    ruleset = Ruleset(thresholds={"MEDIUM": 1, "TOTAL": 2})
    gaps = [no_advisories("npm", "npm"), unknown_distro("deb")]
    outcome = evaluate(ruleset, digest=DIGEST, matches=[_match(1, "LOW")], gaps=gaps)
    assert outcome.alert_reason == ""
    assert outcome.counts["MEDIUM"] == 0
    assert outcome.counts["LOW"] == 1
    outcome = evaluate(ruleset, digest=DIGEST, matches=[_match(1, "MEDIUM"), _match(2, "LOW")], gaps=gaps)
    assert outcome.alert_reason == "MEDIUM 1 >= 1; TOTAL 2 >= 2"
    assert [f.category for f in outcome.findings] == ["CVE", "CVE", "Coverage", "Coverage", "ImageScan"]
