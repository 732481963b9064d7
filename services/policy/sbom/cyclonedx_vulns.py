"""The CycloneDX ``vulnerabilities`` section (CycloneDX 1.6, https://cyclonedx.org/docs/1.6/json/#vulnerabilities).

``add_vulnerabilities(bom, report)`` adds one vulnerability per id to a BOM built by
``cyclonedx.build_bom``: its other ids as ``references``, a rating (CVSS score, vector and
method when known), the fixed versions as a ``recommendation``, ``affects`` naming each
affected package's component (``bom-ref`` = purl) and, for suppressed findings, an
``analysis`` with the state (``not_affected`` for VEX and ignore-file acceptances,
``in_triage`` for ``--ignore-unfixed``) and the reason. KEV, EPSS and fix state are
``assay:`` properties.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from cyclonedx.model import Property, XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.impact_analysis import ImpactAnalysisAffectedStatus, ImpactAnalysisState
from cyclonedx.model.vulnerability import (
    BomTarget,
    BomTargetVersionRange,
    Vulnerability,
    VulnerabilityAnalysis,
    VulnerabilityRating,
    VulnerabilityReference,
    VulnerabilityScoreSource,
    VulnerabilitySeverity,
    VulnerabilitySource,
)

from schemas.records import VulnMatch
from services.policy.report import Report, Suppressed

_SEVERITY: Final = {
    "CRITICAL": VulnerabilitySeverity.CRITICAL,
    "HIGH": VulnerabilitySeverity.HIGH,
    "MEDIUM": VulnerabilitySeverity.MEDIUM,
    "LOW": VulnerabilitySeverity.LOW,
    "NONE": VulnerabilitySeverity.NONE,
}
_SOURCES: Final = (
    ("CVE-", "NVD", "https://nvd.nist.gov/vuln/detail/"),
    ("GHSA-", "GitHub", "https://github.com/advisories/"),
    ("GO-", "Go", "https://pkg.go.dev/vuln/"),
    ("PYSEC-", "PyPA", "https://osv.dev/vulnerability/"),
)


def _source(ident: str) -> VulnerabilitySource:
    for prefix, name, base in _SOURCES:
        if ident.startswith(prefix):
            return VulnerabilitySource(name=name, url=XsUri(base + ident))
    return VulnerabilitySource(name="OSV", url=XsUri("https://osv.dev/vulnerability/" + ident))


def _method(vector: str) -> VulnerabilityScoreSource | None:
    if vector.startswith("CVSS:4"):
        return VulnerabilityScoreSource.CVSS_V4
    if vector.startswith("CVSS:3.1"):
        return VulnerabilityScoreSource.CVSS_V3_1
    if vector.startswith("CVSS:3"):
        return VulnerabilityScoreSource.CVSS_V3
    if vector:
        return VulnerabilityScoreSource.CVSS_V2
    return None


def _rating(m: VulnMatch) -> VulnerabilityRating | None:
    severity = _SEVERITY.get(m.severity)
    if severity is None and not m.cvss_score:
        return None
    return VulnerabilityRating(
        source=VulnerabilitySource(name=m.severity_source or m.ecosystem or "assay"),
        score=Decimal(str(m.cvss_score)) if m.cvss_score else None,
        severity=severity or VulnerabilitySeverity.UNKNOWN,
        method=_method(m.cvss_vector) if m.cvss_vector else None,
        vector=m.cvss_vector or None,
    )


def _analysis(sup: Suppressed) -> VulnerabilityAnalysis:
    # VEX and ignore-file acceptances are "not affected" claims; --ignore-unfixed only defers.
    state = (
        ImpactAnalysisState.NOT_AFFECTED if sup.kind in ("vex", "ignore") else ImpactAnalysisState.IN_TRIAGE
    )
    return VulnerabilityAnalysis(
        state=state, detail=f"{sup.reason} [{sup.source}]" if sup.source else sup.reason
    )


def _vulnerability(
    vuln_id: str, matches: list[VulnMatch], suppressed: Suppressed | None, bom_ref: str
) -> Vulnerability:
    first = matches[0]
    ids = sorted({i for m in matches for i in m.advisory_ids} - {vuln_id})
    fixes = sorted({f"{m.package_name} {m.fixed_version}" for m in matches if m.fixed_version})
    props = [
        Property(name="assay:fixState", value=",".join(sorted({m.fix_state for m in matches if m.fix_state})))
    ]
    if any(m.known_exploited for m in matches):
        props.append(Property(name="assay:knownExploited", value="true"))
    epss = max(m.epss for m in matches)
    if epss:
        props.append(Property(name="assay:epss", value=f"{epss:.5f}"))
    rating = _rating(max(matches, key=lambda m: m.cvss_score))
    return Vulnerability(
        bom_ref=bom_ref,
        id=vuln_id,
        source=_source(vuln_id),
        references=[VulnerabilityReference(id=i, source=_source(i)) for i in ids],
        ratings=[rating] if rating is not None else [],
        description=first.summary or None,
        detail=first.details or None,
        recommendation=("Upgrade to " + "; ".join(fixes)) if fixes else None,
        advisories=[],
        affects=[
            BomTarget(
                ref=m.package_purl,
                versions=[
                    BomTargetVersionRange(
                        version=m.package_version, status=ImpactAnalysisAffectedStatus.AFFECTED
                    )
                ],
            )
            for m in matches
        ],
        analysis=_analysis(suppressed) if suppressed is not None else None,
        properties=[p for p in props if p.value],
    )


def vulnerabilities(report: Report) -> Iterable[Vulnerability]:
    """One CycloneDX vulnerability per id among the report's matches (suppressed ones with an analysis).

    A vulnerability suppressed for some packages and not others is listed twice, once per
    state, so the analysis never speaks for a package it does not cover.
    """
    suppressed = {(s.finding.id, s.finding.purl): s for s in report.suppressed}
    groups: dict[tuple[str, str], list[VulnMatch]] = {}
    for m in report.matches:
        sup = suppressed.get((m.vuln_id, m.package_purl))
        key = (m.vuln_id, sup.reason if sup is not None else "")
        groups.setdefault(key, []).append(m)
    for n, ((vuln_id, reason), matches) in enumerate(sorted(groups.items())):
        sup = suppressed.get((vuln_id, matches[0].package_purl)) if reason else None
        yield _vulnerability(
            vuln_id, matches, sup, f"vuln:{vuln_id}" + (f":suppressed:{n}" if reason else "")
        )


def add_vulnerabilities(bom: Bom, report: Report) -> Bom:
    """Add the report's vulnerabilities to ``bom`` (built from the same report) and return it."""
    for vuln in vulnerabilities(report):
        bom.vulnerabilities.add(vuln)
    return bom
