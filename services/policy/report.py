"""The report of one assessed scan: the one document every output format is rendered from.

Built by ``services.policy.assess`` for ``assay scan`` and the Harbor adapter; rendered by
``services/cli/formats/`` and the SBOM writers in ``services/policy/sbom/`` (``report_json`` is its
JSON form, which Harbor serves as is).
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from schemas.events import ScanCompleted
from schemas.records import Detection, Finding, ImageInfo, PackageRecord, Unknown, VulnMatch
from services.policy.ruleset import Outcome


class Suppressed(msgspec.Struct, frozen=True, kw_only=True):
    """A finding kept out of the counts and ``--fail-on`` because it was accepted, and why.

    ``kind``: ``ignore`` (an ignore-file entry), ``vex`` (a VEX statement), ``unfixed``
    (``--ignore-unfixed``) or ``ruleset`` (a ruleset rule); ``source`` names the file and entry
    (``FILE:LINE``, ``FILE#N``, ``RULESET#RULE``).
    """

    finding: Finding
    reason: str
    kind: str
    source: str = ""


class ExpiredIgnore(msgspec.Struct, frozen=True, kw_only=True):
    """An ignore-file entry past its ``expires`` date: it no longer suppresses anything."""

    id: str
    package: str = ""
    expires: str
    reason: str = ""
    source: str = ""
    matches: int = 0  # findings it would still have suppressed


class Report(msgspec.Struct, frozen=True, kw_only=True):
    """``assay scan --format json``: the image, its packages, findings, unknowns and notes.

    ``matches`` are the advisory matches behind the CVE findings (every advisory id, CVSS,
    fix state, KEV and EPSS), suppressed ones included; ``suppressed`` lists the accepted
    findings with their reasons.
    """

    schema: str = "assay.report/v1"
    image: ImageInfo
    packages: list[PackageRecord]
    findings: list[Finding]
    counts: dict[str, int]
    unknowns: list[Unknown] = []
    notes: list[str] = []
    alert: str = ""
    analyzer_version: str = ""
    generated_at: str = ""
    matches: list[VulnMatch] = []
    suppressed: list[Suppressed] = []
    expired_ignores: list[ExpiredIgnore] = []
    detections: list[Detection] = []  # content analyzers' results; evidence is always redacted


def build_report(
    detections: ScanCompleted,
    outcome: Outcome,
    *,
    suppressed: Sequence[Suppressed] = (),
    expired_ignores: Sequence[ExpiredIgnore] = (),
    notes: Sequence[str] = (),
) -> Report:
    """Join the engine's detections, the policy's outcome and what suppression set aside."""
    return Report(
        image=detections.image,
        packages=detections.packages,
        findings=outcome.findings,
        counts=outcome.counts,
        unknowns=detections.unknowns,
        notes=[*detections.notes, *notes],
        alert=outcome.alert_reason,
        analyzer_version=detections.analyzer_version,
        generated_at=detections.completed_at,
        matches=detections.matches,
        suppressed=list(suppressed),
        expired_ignores=list(expired_ignores),
        detections=detections.detections,
    )


def report_json(report: Report) -> str:
    """The report as indented JSON (``assay scan --format json``)."""
    return msgspec.json.format(msgspec.json.encode(report).decode(), indent=2) + "\n"


def match_index(report: Report) -> dict[tuple[str, str], VulnMatch]:
    """The advisory match behind each CVE finding, by (finding id, purl)."""
    return {(m.vuln_id, m.package_purl): m for m in report.matches}
