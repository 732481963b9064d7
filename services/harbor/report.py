"""Assay's report as Harbor's vulnerability report: a pure function of the report."""

from __future__ import annotations

from typing import Final

from schemas.records import Finding, VulnMatch
from services.harbor.models import (
    Artifact,
    HarborSeverity,
    HarborVulnerabilityReport,
    Scanner,
    VulnerabilityItem,
)
from services.policy.report import Report, match_index

__all__ = ["harbor_report", "harbor_severity"]

_SEVERITY: Final[dict[str, HarborSeverity]] = {
    "CRITICAL": "Critical",
    "HIGH": "High",
    "MEDIUM": "Medium",
    "LOW": "Low",
    "NEGLIGIBLE": "Negligible",
}
_ORDER: Final[tuple[HarborSeverity, ...]] = ("Unknown", "Negligible", "Low", "Medium", "High", "Critical")


def harbor_severity(severity: str) -> HarborSeverity:
    """Assay's severity on Harbor's scale (anything Harbor does not name is ``Unknown``)."""
    return _SEVERITY.get(severity.upper(), "Unknown")


def _item(finding: Finding, match: VulnMatch | None) -> VulnerabilityItem:
    vector = match.cvss_vector if match else ""
    score = f"{match.cvss_score:.1f}" if match and match.cvss_score else ""
    v3 = vector.startswith("CVSS:3")
    v2 = bool(vector) and not vector.startswith("CVSS:")
    links = [ref for ref in (match.references if match else []) if ref.startswith(("https://", "http://"))]
    return VulnerabilityItem(
        id=finding.id,
        package=finding.package_name,
        version=finding.installed_version,
        fix_version=finding.fixed_version,
        severity=harbor_severity(finding.severity),
        description=finding.description or finding.title,
        links=links,
        cve3_score=score if v3 else "",
        cvss3_vector=vector if v3 else "",
        cve2_score=score if v2 else "",
        cvss2_vector=vector if v2 else "",
    )


def harbor_report(report: Report, artifact: Artifact, scanner: Scanner) -> HarborVulnerabilityReport:
    """The report's CVE findings that remain after suppression, one item per package and CVE.

    The report's severity is the highest of its items' (``Unknown`` when it has none): what
    Harbor shows for the artifact and what its "prevent vulnerable images from running" policy
    compares against.
    """
    matches = match_index(report)
    items = [
        _item(f, matches.get((f.id, f.purl)))
        for f in report.findings
        if f.category == "CVE" and not f.suppression
    ]
    worst = max((_ORDER.index(i.severity) for i in items), default=0)
    return HarborVulnerabilityReport(
        generated_at=report.generated_at,
        artifact=artifact,
        scanner=scanner,
        severity=_ORDER[worst],
        vulnerabilities=items,
    )
