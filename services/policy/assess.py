"""The assessment of one scan without a store: policy, acceptance and coverage applied, a ``Report`` out.

``assay scan`` and the Harbor adapter assess through ``assess``; the policy service evaluates
the same way (``services/policy/evaluation.py``: the same ``ruleset.evaluate`` and the same
``suppress_accept.accept`` with the ruleset's own acceptance) and stores the result instead.
Suppression never drops a finding: what an ignore entry, a VEX statement or ``ignore_unfixed``
accepts moves to the report's ``suppressed`` list with its reason, as do findings a ruleset
rule suppresses (``kind`` ``ruleset``).
"""

from __future__ import annotations

import datetime as dt

from schemas.events import ScanCompleted
from services.policy.report import ExpiredIgnore, Report, Suppressed, build_report
from services.policy.ruleset import DEFAULT_RULESET, Outcome, Ruleset, cve_finding, evaluate
from services.policy.suppress_accept import Acceptance, accept, combined
from services.vulndb.coverage import scan_gaps

__all__ = ["assess"]


def assess(
    detections: ScanCompleted, acceptance: Acceptance, today: dt.date, ruleset: Ruleset = DEFAULT_RULESET
) -> Report:
    """Policy, suppression and coverage applied to one scan's detections: the report.

    ``acceptance`` (the command line's) adds to the ruleset's own (its ``ignore_files``/``vex`` keys).
    """
    digest = detections.image.digest
    acceptance = combined(acceptance, ruleset.acceptance)
    accepted = accept(
        acceptance, detections.matches, digest=digest, image_ref=detections.image.ref, today=today
    )
    evaluated = evaluate(
        ruleset,
        digest=digest,
        matches=accepted.kept,
        gaps=scan_gaps(detections.notes, detections.image.distro, today, gaps=detections.gaps),
        detections=detections.detections,
        image_ref=detections.image.ref,
    )
    outcome = Outcome(findings=evaluated.active, counts=evaluated.counts, alert_reason=evaluated.alert_reason)
    suppressed = [
        Suppressed(
            finding=cve_finding(ruleset, m, digest=digest), reason=d.reason, kind=d.kind, source=d.source
        )
        for m, d in accepted.dropped
    ]
    suppressed += [
        Suppressed(
            finding=f,
            reason=f.suppression,
            kind="ruleset",
            source=f"{ruleset.source or ruleset.name}#{f.policy_rule}",
        )
        for f in evaluated.findings
        if f.suppression
    ]
    expired = [
        ExpiredIgnore(
            id=r.id, package=r.package, expires=r.expires, reason=r.reason, source=r.source, matches=n
        )
        for r, n in accepted.expired
    ]
    return build_report(
        detections,
        outcome,
        suppressed=suppressed,
        expired_ignores=expired,
        notes=[f"ignore/VEX input: {p}" for p in acceptance.problems],
    )
