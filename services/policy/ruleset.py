"""Rulesets: how detections become findings, and when an image raises a threshold alert.

The skeleton ships one default ruleset. Later work loads rulesets from YAML and assigns
them per environment; the evaluation below stays a pure function of its inputs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import msgspec

from schemas.records import Finding, VulnMatch
from services.vulndb.coverage import CoverageGap

SEVERITIES: tuple[str, ...] = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")


class Ruleset(msgspec.Struct, frozen=True, kw_only=True):
    """A named ruleset. ``thresholds`` maps a severity (or ``TOTAL``) to the count that alerts."""

    name: str = "default"
    thresholds: dict[str, int] = msgspec.field(
        default_factory=lambda: {"CRITICAL": 1, "HIGH": 5, "TOTAL": 25}
    )
    image_scan_severity: str = "HIGH"


DEFAULT_RULESET = Ruleset()


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """What a ruleset made of one image's detections."""

    findings: list[Finding]
    counts: dict[str, int]
    alert_reason: str = ""  # non-empty when a threshold was passed


def finding_id(digest: str, category: str, ident: str, package: str) -> str:
    """A stable id: the same detection on the same image always gets the same id."""
    material = "\x1f".join((digest, category, ident, package)).encode()
    return hashlib.sha256(material).hexdigest()[:32]


def severity_rank(severity: str) -> int:
    """0 for CRITICAL up to 4 for UNKNOWN (and anything unrecognised)."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES) - 1


def counts_by_severity(findings: Sequence[Finding]) -> dict[str, int]:
    """Counts per severity, every severity present (zero where none)."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        counts[f.severity if f.severity in counts else "UNKNOWN"] += 1
    return counts


def cve_finding(ruleset: Ruleset, match: VulnMatch, *, digest: str, environment: str = "") -> Finding:
    """The CVE finding a ruleset makes of one advisory match."""
    return Finding(
        finding_id=finding_id(digest, "CVE", match.vuln_id, match.package_purl),
        category="CVE",
        id=match.vuln_id,
        severity=match.severity,
        title=match.vuln_id,
        description=match.summary or match.details,
        package_name=match.package_name,
        purl=match.package_purl,
        installed_version=match.package_version,
        fixed_version=match.fixed_version,
        layer_digest=match.layer_digest,
        environment=environment,
        ruleset=ruleset.name,
    )


def coverage_finding(ruleset: Ruleset, gap: CoverageGap, *, digest: str, environment: str = "") -> Finding:
    """The ``Coverage`` finding for something the scan could not check (never a silent zero)."""
    return Finding(
        finding_id=finding_id(digest, "Coverage", gap.id, ""),
        category="Coverage",
        id=gap.id,
        severity=gap.severity,
        title="Vulnerability coverage gap",
        description=gap.message,
        environment=environment,
        ruleset=ruleset.name,
    )


def evaluate(
    ruleset: Ruleset,
    *,
    digest: str,
    matches: Sequence[VulnMatch],
    environment: str = "",
    gaps: Sequence[CoverageGap] = (),
) -> Outcome:
    """Turn advisory matches into CVE findings and coverage gaps into Coverage findings, and add an
    ImageScan finding past a threshold. Thresholds count the CVE findings only."""
    findings = [cve_finding(ruleset, m, digest=digest, environment=environment) for m in matches]
    findings.sort(key=lambda f: (severity_rank(f.severity), f.package_name, f.id))
    counts = counts_by_severity(findings)
    observed = {key: len(findings) if key == "TOTAL" else counts.get(key, 0) for key in ruleset.thresholds}
    passed = [
        f"{key} {observed[key]} >= {limit}"
        for key, limit in ruleset.thresholds.items()
        if observed[key] >= limit
    ]
    findings += [coverage_finding(ruleset, g, digest=digest, environment=environment) for g in gaps]
    reason = "; ".join(passed)
    if reason:
        findings.append(
            Finding(
                finding_id=finding_id(digest, "ImageScan", ruleset.name, ""),
                category="ImageScan",
                id=f"threshold:{ruleset.name}",
                severity=ruleset.image_scan_severity,
                title="Image findings exceed the ruleset threshold",
                description=f"Thresholds passed: {reason}",
                environment=environment,
                ruleset=ruleset.name,
            )
        )
    return Outcome(findings=findings, counts=counts, alert_reason=reason)
