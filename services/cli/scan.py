"""``assay scan TARGET``: analysis and policy in one process, no servers.

The ruleset (``--ruleset FILE``, default the shipped ``default``) is evaluated as the policy
service evaluates it: advisory matches, coverage gaps and content detections become findings,
its rules set severities or suppress (``kind`` ``ruleset`` in the report's ``suppressed`` list),
and its thresholds raise the ImageScan finding and the alert line.

CI gating: ``--fail-on SEVERITY`` exits 1 when a CVE finding or a content-detection finding
(InsecureContent, MaliciousFile, MaliciousURL, MaliciousIP, InsecureCode, Package) of that
severity or worse remains after suppression (Coverage and ImageScan findings never fail it).
Suppression never drops a finding: entries of ``--ignore-file``
(until their ``expires`` date), ``not_affected``/``fixed`` statements of ``--vex`` OpenVEX
documents and, with ``--ignore-unfixed``, vulnerabilities without a fixed version move a
finding to the report's ``suppressed`` list with the reason. Coverage gaps (an end-of-life
or unknown distribution, an ecosystem without advisory data) are ``Coverage`` findings.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

import msgspec

from schemas.events import ScanCompleted
from services.cli.formats import build_report, formatter
from services.cli.formats.report import ExpiredIgnore, Report, Suppressed
from services.common.config import Settings
from services.common.errors import AssayError, VulnDBError
from services.engine.catalogers.registry import select
from services.engine.content.registry import ContentAnalysis
from services.engine.core import detect, utcnow
from services.engine.image.targets import parse_target
from services.policy.catalog import load_ruleset_file
from services.policy.rules import DETECTION_CATEGORIES
from services.policy.ruleset import DEFAULT_RULESET, Outcome, Ruleset, cve_finding, evaluate, severity_rank
from services.vulndb.coverage import scan_gaps
from services.vulndb.db import VulnDB
from services.vulndb.suppress import Decider, IgnoreRule, Suppressor, parse_ignore_file, partition
from services.vulndb.vex import Statement, VexFilter, parse_openvex

EXIT_FINDINGS = 1
EXIT_ERROR = 2


class Acceptance(msgspec.Struct, frozen=True, kw_only=True):
    """What the user accepts: ignore-file rules, VEX statements, and whether unfixed ones count."""

    rules: list[IgnoreRule] = []
    statements: list[Statement] = []
    ignore_unfixed: bool = False
    problems: list[str] = []


def load_acceptance(
    ignore_files: Sequence[str], vex_files: Sequence[str], *, ignore_unfixed: bool
) -> Acceptance:
    """Read the ignore files and VEX documents; ``OSError`` if one cannot be read at all."""
    rules: list[IgnoreRule] = []
    statements: list[Statement] = []
    problems: list[str] = []
    for name in ignore_files:
        parsed = parse_ignore_file(name, Path(name).read_bytes())
        rules += parsed.rules
        problems += parsed.problems
    for name in vex_files:
        doc = parse_openvex(name, Path(name).read_bytes())
        statements += doc.statements
        problems += doc.problems
    return Acceptance(rules=rules, statements=statements, ignore_unfixed=ignore_unfixed, problems=problems)


FAIL_ON_CATEGORIES = frozenset({"CVE", *DETECTION_CATEGORIES})


def assemble(
    detections: ScanCompleted, acceptance: Acceptance, today: dt.date, ruleset: Ruleset = DEFAULT_RULESET
) -> Report:
    """Policy, suppression and coverage applied to one scan's detections: the report."""
    digest = detections.image.digest
    suppressor = Suppressor(acceptance.rules, today=today, ignore_unfixed=acceptance.ignore_unfixed)
    vex = VexFilter(acceptance.statements, image_digest=digest, image_ref=detections.image.ref)
    deciders: list[Decider] = [suppressor.by_rule, vex.decide, suppressor.by_fix_state]
    kept, dropped = partition(detections.matches, deciders)
    gaps = scan_gaps(detections.notes, detections.image.distro, today)
    evaluated = evaluate(ruleset, digest=digest, matches=kept, gaps=gaps, detections=detections.detections)
    outcome = Outcome(findings=evaluated.active, counts=evaluated.counts, alert_reason=evaluated.alert_reason)
    suppressed = [
        Suppressed(
            finding=cve_finding(ruleset, m, digest=digest),
            reason=d.reason,
            kind=d.kind,
            source=d.source,
        )
        for m, d in dropped
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
        for r, n in suppressor.expired_hits(detections.matches)
    ]
    return build_report(
        detections,
        outcome,
        suppressed=suppressed,
        expired_ignores=expired,
        notes=[f"ignore/VEX input: {p}" for p in acceptance.problems],
    )


async def run_scan(
    settings: Settings,
    target: str,
    *,
    fmt: str,
    output: str | None,
    fail_on: str | None,
    ignore_unfixed: bool = False,
    ignore_files: Sequence[str] = (),
    vex_files: Sequence[str] = (),
    ruleset_file: str | None = None,
) -> int:
    """Scan one target, print the chosen format, and return the exit code."""
    try:
        acceptance = load_acceptance(ignore_files, vex_files, ignore_unfixed=ignore_unfixed)
    except OSError as exc:
        print(f"assay: error: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_ERROR
    try:
        ruleset = load_ruleset_file(Path(ruleset_file)) if ruleset_file else DEFAULT_RULESET
    except AssayError as exc:
        print(f"assay: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    try:
        vulndb: VulnDB | None = VulnDB.open(settings.effective_db_path)
    except VulnDBError as exc:
        print(f"assay: warning: {exc}", file=sys.stderr)
        vulndb = None
    try:
        source = parse_target(target, registries=settings.registries, platform=settings.platform)
        tags = ("directory",) if target.startswith("dir:") else ("image",)
        content = ContentAnalysis.from_settings(settings)
        image = await source.open()
        async with image:
            bound = content.bind(image.info.layers)
            detections = await detect(
                image,
                scan_id=uuid.uuid4().hex,
                catalogers=select(tags),
                vulndb=vulndb,
                analyzers=bound.analyzers,
            )
            bound.commit()
    except AssayError as exc:
        print(f"assay: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if vulndb is not None:
            vulndb.close()
    report = assemble(detections, acceptance, dt.date.fromisoformat(utcnow()[:10]), ruleset)
    text = formatter(fmt)(report)
    if output:
        await asyncio.to_thread(Path(output).write_text, text)
    else:
        sys.stdout.write(text)
    for unknown in report.unknowns:
        print(
            f"assay: warning: could not read {unknown.path} in layer {unknown.layer_digest or '-'}: "
            f"{unknown.reason}",
            file=sys.stderr,
        )
    for problem in acceptance.problems:
        print(f"assay: warning: {problem}", file=sys.stderr)
    for rule in report.expired_ignores:
        print(
            f"assay: warning: ignore entry {rule.id} ({rule.source}) expired on {rule.expires}; "
            f"it no longer suppresses {rule.matches} finding(s)",
            file=sys.stderr,
        )
    if fail_on:
        limit = severity_rank(fail_on.upper())
        if any(
            f.category in FAIL_ON_CATEGORIES and severity_rank(f.severity) <= limit for f in report.findings
        ):
            return EXIT_FINDINGS
    return 0
