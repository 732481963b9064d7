"""Rulesets: how detections become findings, and when an image raises a threshold alert.

``evaluate`` is a pure function: advisory matches become ``CVE`` findings, coverage gaps
``Coverage`` findings and content detections findings of the detection's category; each is
passed through the ruleset's rules (``rules.py``: set severity, or suppress with a reason); an
``ImageScan`` finding is added when the non-suppressed counts pass a threshold.

Finding ids (stable, 32 hex digits): ``sha256("\\x1f".join(parts))[:32]`` where ``parts`` is
``(digest, category, id, subject)`` for the ``default`` ruleset (the formula before rulesets
existed, so old ids stay valid) and ``(digest, category, id, subject, ruleset)`` for any other.
``subject`` is the package purl for CVEs, ``""`` for Coverage and ImageScan (whose id is
``threshold:<ruleset>``), and for a content detection ``<path or package purl>\\x1f<h>`` with
``h`` the first 16 hex digits of the SHA-256 of the (redacted) evidence (``<path>\\x1f<purl>\\x1f<h>``
when it has both: a package's license recorded in a database file shared by many packages).

The ImageScan finding is titled with the image name (the reference without its digest).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources

import msgspec

from schemas.records import CoverageGap, Detection, Finding, VulnMatch
from schemas.vocabulary import SEVERITIES, Severity, as_severity, severity_rank
from services.policy.rules import Rule, RulesetSpec, parse_ruleset
from services.policy.suppress import Decision
from services.policy.suppress_accept import Acceptance

__all__ = [
    "DEFAULT_NAME",
    "DEFAULT_RULESET",
    "SEVERITIES",
    "Outcome",
    "Ruleset",
    "apply_rules",
    "counts_by_severity",
    "coverage_finding",
    "cve_finding",
    "default_ruleset",
    "detection_finding",
    "evaluate",
    "finding_id",
    "image_name",
    "severity_rank",
]

DEFAULT_NAME = "default"


class Ruleset(msgspec.Struct, frozen=True, kw_only=True):
    """A named ruleset. ``thresholds`` maps a severity, ``TOTAL`` or a category to the count that alerts.

    Severity and ``TOTAL`` counts cover the non-suppressed findings of ``threshold_categories``;
    a category key counts that category's non-suppressed findings. ``source`` names the file.
    """

    name: str = DEFAULT_NAME
    thresholds: dict[str, int] = msgspec.field(
        default_factory=lambda: {"CRITICAL": 1, "HIGH": 5, "TOTAL": 25}
    )
    image_scan_severity: Severity = "HIGH"
    threshold_categories: list[str] = msgspec.field(default_factory=lambda: ["CVE"])
    rules: list[Rule] = []
    source: str = ""
    # the ignore files, VEX documents and ignore_unfixed the file names (read at load)
    acceptance: Acceptance = msgspec.field(default_factory=Acceptance)

    @classmethod
    def from_spec(cls, spec: RulesetSpec, source: str, acceptance: Acceptance | None = None) -> Ruleset:
        """The runtime ruleset of a parsed file (``acceptance``: what its suppression keys name)."""
        return cls(
            name=spec.name,
            thresholds=dict(spec.thresholds),
            image_scan_severity=as_severity(spec.image_scan_severity),  # parse_ruleset checked it
            threshold_categories=list(spec.threshold_categories),
            rules=list(spec.rules),
            source=source,
            acceptance=acceptance or Acceptance(),
        )


@cache
def default_ruleset() -> Ruleset:
    """The shipped ``rulesets/default.yaml``."""
    text = resources.files("services.policy.rulesets").joinpath("default.yaml").read_text("utf-8")
    return Ruleset.from_spec(parse_ruleset("default.yaml", text), "default.yaml")


DEFAULT_RULESET = default_ruleset()


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """What a ruleset made of one image's detections (suppressed findings included, marked)."""

    findings: list[Finding]
    counts: dict[str, int]
    alert_reason: str = ""  # non-empty when a threshold was passed

    @property
    def active(self) -> list[Finding]:
        """The findings not suppressed."""
        return [f for f in self.findings if not f.suppression]


def finding_id(digest: str, category: str, ident: str, package: str, ruleset: str = DEFAULT_NAME) -> str:
    """A stable id: the same detection on the same image under the same ruleset gets the same id."""
    parts = [digest, category, ident, package]
    if ruleset != DEFAULT_NAME:
        parts.append(ruleset)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def image_name(image_ref: str) -> str:
    """An image reference without its digest: ``reg/team/app:1.2@sha256:…`` -> ``reg/team/app:1.2``."""
    return image_ref.split("@", 1)[0]


def counts_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    """Counts per severity, every severity present (zero where none)."""
    counts: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        counts[f.severity if f.severity in counts else "UNKNOWN"] += 1
    return counts


def apply_rules(ruleset: Ruleset, finding: Finding) -> Finding:
    """``finding`` after the ruleset's rules, in file order; a suppression ends the evaluation."""
    for rule in ruleset.rules:
        if not rule.match.matches(finding):
            continue
        if rule.action.suppress:
            return msgspec.structs.replace(finding, suppression=rule.action.reason, policy_rule=rule.name)
        if rule.action.severity is not None:
            finding = msgspec.structs.replace(finding, severity=rule.action.severity, policy_rule=rule.name)
    return finding


def cve_finding(ruleset: Ruleset, match: VulnMatch, *, digest: str, environment: str = "") -> Finding:
    """The CVE finding a ruleset makes of one advisory match (before its rules)."""
    return Finding(
        finding_id=finding_id(digest, "CVE", match.vuln_id, match.package_purl, ruleset.name),
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
        fix_state=match.fix_state,
        known_exploited=match.known_exploited,
        cvss_score=match.cvss_score,
        cvss_vector=match.cvss_vector,
        severity_source=match.severity_source,
        epss=match.epss,
    )


def coverage_finding(ruleset: Ruleset, gap: CoverageGap, *, digest: str, environment: str = "") -> Finding:
    """The ``Coverage`` finding for something the scan could not check (never a silent zero)."""
    return Finding(
        finding_id=finding_id(digest, "Coverage", gap.id, "", ruleset.name),
        category="Coverage",
        id=gap.id,
        severity=gap.severity,
        title="Vulnerability coverage gap",
        description=gap.message,
        environment=environment,
        ruleset=ruleset.name,
    )


def detection_subject(detection: Detection) -> str:
    """The id material of a detection besides digest, category and rule (see the module doc).

    A detection about a package recorded in a shared file (an RPM or apk database, a lockfile)
    names both: the file alone would give every package of that database the same id.
    """
    evidence = hashlib.sha256(detection.evidence.encode()).hexdigest()[:16]
    where = detection.path or detection.package_purl
    if detection.path and detection.package_purl:
        where = f"{detection.path}\x1f{detection.package_purl}"
    return f"{where}\x1f{evidence}"


def detection_finding(
    ruleset: Ruleset, detection: Detection, *, digest: str, environment: str = ""
) -> Finding:
    """The finding of one content detection (its evidence is already redacted by the analyzer)."""
    where = detection.path or "the image config"
    deleted = " (in a copy a later layer deleted or replaced)" if detection.deleted else ""
    return Finding(
        finding_id=finding_id(
            digest, detection.category, detection.rule_id, detection_subject(detection), ruleset.name
        ),
        category=detection.category,
        id=detection.rule_id,
        severity=detection.severity,
        title=detection.title,
        description=f"{detection.title} in {where}{deleted}"
        + (f" (source: {detection.source})" if detection.source else ""),
        purl=detection.package_purl,
        layer_digest=detection.layer_digest,
        environment=environment,
        ruleset=ruleset.name,
        path=detection.path,
        evidence=detection.evidence,
        deleted=detection.deleted,
    )


def _threshold_reason(ruleset: Ruleset, counted: Sequence[Finding], everything: Sequence[Finding]) -> str:
    counts = counts_by_severity(counted)
    by_category: dict[str, int] = {}
    for f in everything:
        by_category[f.category] = by_category.get(f.category, 0) + 1
    passed = []
    for key, limit in ruleset.thresholds.items():
        observed = (
            len(counted) if key == "TOTAL" else counts[key] if key in counts else by_category.get(key, 0)
        )
        if observed >= limit:
            passed.append(f"{key} {observed} >= {limit}")
    return "; ".join(passed)


def _cve_findings(
    ruleset: Ruleset,
    matches: Sequence[VulnMatch],
    accepted: Sequence[tuple[VulnMatch, Decision]],
    *,
    digest: str,
    environment: str,
) -> list[Finding]:
    """The CVE findings, most severe first: matches through the rules, accepted ones suppressed."""
    cves = [
        apply_rules(ruleset, cve_finding(ruleset, m, digest=digest, environment=environment)) for m in matches
    ]
    cves += [
        msgspec.structs.replace(
            cve_finding(ruleset, m, digest=digest, environment=environment),
            suppression=d.reason,
            policy_rule=f"{d.kind}:{d.source}",
        )
        for m, d in accepted
    ]
    cves.sort(key=lambda f: (severity_rank(f.severity), f.package_name, f.id))
    return cves


def evaluate(
    ruleset: Ruleset,
    *,
    digest: str,
    matches: Sequence[VulnMatch] = (),
    environment: str = "",
    gaps: Sequence[CoverageGap] = (),
    detections: Sequence[Detection] = (),
    carried: Sequence[Finding] = (),
    image_ref: str = "",
    accepted: Sequence[tuple[VulnMatch, Decision]] = (),
) -> Outcome:
    """Findings of one image under ``ruleset``, and an ImageScan finding past a threshold.

    ``carried`` are findings evaluated earlier that count toward thresholds without being
    evaluated again (a rematch carries the stored detection findings: detections are not
    in the advisory database). Only non-suppressed findings count. ``image_ref`` names the image
    in the ImageScan finding's title (the digest when empty). ``accepted`` are matches the
    ruleset's acceptance suppressed (``suppress_accept.accept``): CVE findings suppressed with
    the decision's reason, ``policy_rule`` naming its source.
    """
    cves = _cve_findings(ruleset, matches, accepted, digest=digest, environment=environment)
    content = [
        apply_rules(ruleset, detection_finding(ruleset, d, digest=digest, environment=environment))
        for d in detections
    ]
    content.sort(key=lambda f: (f.category, severity_rank(f.severity), f.id, f.path, f.finding_id))
    coverage = [
        apply_rules(ruleset, coverage_finding(ruleset, g, digest=digest, environment=environment))
        for g in gaps
    ]
    active = [f for f in (*cves, *content, *coverage, *carried) if not f.suppression]
    counted = [f for f in active if f.category in ruleset.threshold_categories]
    reason = _threshold_reason(ruleset, counted, active)
    findings = [*cves, *content, *coverage]
    if reason:
        findings.append(
            apply_rules(
                ruleset,
                Finding(
                    finding_id=finding_id(digest, "ImageScan", ruleset.name, "", ruleset.name),
                    category="ImageScan",
                    id=f"threshold:{ruleset.name}",
                    severity=ruleset.image_scan_severity,
                    title=image_name(image_ref) or digest,
                    description=f"Image findings exceed the ruleset threshold: {reason}",
                    environment=environment,
                    ruleset=ruleset.name,
                ),
            )
        )
    return Outcome(findings=findings, counts=counts_by_severity(counted), alert_reason=reason)
