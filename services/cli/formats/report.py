"""The JSON report: the one document every output format is rendered from."""

from __future__ import annotations

import msgspec

from schemas.events import ScanCompleted
from schemas.records import Finding, ImageInfo, PackageRecord, Unknown
from services.policy.ruleset import Outcome


class Report(msgspec.Struct, frozen=True, kw_only=True):
    """``assay scan --format json``: the image, its packages, findings, unknowns and notes."""

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


def build_report(detections: ScanCompleted, outcome: Outcome) -> Report:
    """Join the engine's detections and the policy's outcome."""
    return Report(
        image=detections.image,
        packages=detections.packages,
        findings=outcome.findings,
        counts=outcome.counts,
        unknowns=detections.unknowns,
        notes=detections.notes,
        alert=outcome.alert_reason,
        analyzer_version=detections.analyzer_version,
        generated_at=detections.completed_at,
    )
