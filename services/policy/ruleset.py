"""Rulesets: how detections become findings, and when an image raises a threshold alert.

The skeleton ships one default ruleset. Later work loads rulesets from YAML and assigns
them per environment; the evaluation below stays a pure function of its inputs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import msgspec

from schemas.records import Finding, VulnMatch

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


def evaluate(
    ruleset: Ruleset,
    *,
    digest: str,
    matches: Sequence[VulnMatch],
    environment: str = "",
) -> Outcome:
    """Turn advisory matches into CVE findings, and add an ImageScan finding past a threshold."""
    findings = [
        Finding(
            finding_id=finding_id(digest, "CVE", m.vuln_id, m.package_purl),
            category="CVE",
            id=m.vuln_id,
            severity=m.severity,
            title=m.vuln_id,
            description=m.summary or m.details,
            package_name=m.package_name,
            purl=m.package_purl,
            installed_version=m.package_version,
            fixed_version=m.fixed_version,
            layer_digest=m.layer_digest,
            environment=environment,
            ruleset=ruleset.name,
        )
        for m in matches
    ]
    findings.sort(key=lambda f: (severity_rank(f.severity), f.package_name, f.id))
    counts = counts_by_severity(findings)
    observed = {key: len(findings) if key == "TOTAL" else counts.get(key, 0) for key in ruleset.thresholds}
    passed = [
        f"{key} {observed[key]} >= {limit}"
        for key, limit in ruleset.thresholds.items()
        if observed[key] >= limit
    ]
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
