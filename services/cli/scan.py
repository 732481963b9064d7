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
from services.cli.scan_filter import ShowFilter, filter_report
from services.common.clock import utcnow
from services.common.config import Settings
from services.common.errors import AssayError, ImageError, VulnDBError
from services.engine.analyze import Analysis
from services.engine.core import complete_scan
from services.engine.isolate import IsolatedRequest, analyse_in_process, analyse_isolated
from services.engine.sbom import read_sbom
from services.policy.catalog import load_ruleset_file
from services.policy.rules import DETECTION_CATEGORIES
from services.policy.ruleset import DEFAULT_RULESET, Outcome, Ruleset, cve_finding, evaluate, severity_rank
from services.vulndb.coverage import scan_gaps
from services.vulndb.db import VulnDB
from services.vulndb.suppress import Decider, IgnoreRule, Suppressor, parse_ignore_file, partition
from services.vulndb.vex import Statement, VexFilter, parse_openvex

EXIT_FINDINGS = 1
EXIT_ERROR = 2
DEFAULT_IGNORE_FILE = ".assayignore"  # read from the working directory, as Trivy reads .trivyignore


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
    evaluated = evaluate(
        ruleset,
        digest=digest,
        matches=kept,
        gaps=gaps,
        detections=detections.detections,
        image_ref=detections.image.ref,
    )
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


def _sbom_analysis(path: str, settings: Settings) -> Analysis:
    """The packages of the SBOM file at ``path``, read within the parsed-file budget."""
    limit = settings.budget.parsed_file_bytes_max
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise ImageError(f"sbom:{path}: cannot read: {exc.strerror}") from exc
    if len(data) > limit:
        raise ImageError(f"sbom:{path}: larger than {limit} bytes (ASSAY_BUDGET_PARSED_FILE_BYTES_MAX)")
    return read_sbom(path, data)


async def scan_report(
    settings: Settings,
    target: str,
    acceptance: Acceptance,
    ruleset: Ruleset = DEFAULT_RULESET,
    *,
    match_advisories: bool = True,
) -> Report:
    """Scan one target and assess it: the report ``assay scan`` prints.

    The one scan-and-assess path of the no-server modes (``assay scan``, the Harbor adapter).
    Raises ``AssayError`` when the target cannot be read; a missing advisory database is a
    warning on stderr and a note in the report, not an error. ``match_advisories=False``
    (``--scanners`` without ``vuln``) lists packages without matching them.
    """
    vulndb: VulnDB | None = None
    try:
        if match_advisories:
            vulndb = VulnDB.open(settings.effective_db_path)
    except VulnDBError as exc:
        print(f"assay: warning: {exc}", file=sys.stderr)
    try:
        if target.startswith("sbom:"):  # a document's packages, no image: matched and assessed alike
            analysis = await asyncio.to_thread(_sbom_analysis, target.removeprefix("sbom:"), settings)
        else:
            tags = ["directory"] if target.startswith("dir:") else ["image"]
            # analysed in a child process under the scan budget (services/engine/isolate.py)
            request = IsolatedRequest(target=target, settings=settings, catalog_tags=tags)
            analyse = analyse_isolated if settings.scan_isolation else analyse_in_process
            isolated = (await analyse(request)).analysis
            assert isolated is not None  # no size limit was asked for
            analysis = isolated
        detections = complete_scan(analysis, scan_id=uuid.uuid4().hex, vulndb=vulndb)
    finally:
        if vulndb is not None:
            vulndb.close()
    return assemble(detections, acceptance, dt.date.fromisoformat(utcnow()[:10]), ruleset)


class ScanOptions(msgspec.Struct, frozen=True, kw_only=True):
    """What the user asked ``assay scan`` for besides the target."""

    fmt: str = "table"
    output: str | None = None
    fail_on: str | None = None  # a severity: exit non-zero when a finding this bad or worse remains
    exit_code: int | None = None  # the code for that (default 1); alone: any finding shown
    ignore_unfixed: bool = False
    ignore_files: list[str] = []  # default: ./.assayignore when it exists
    vex_files: list[str] = []
    ruleset_file: str | None = None
    show: ShowFilter = msgspec.field(default_factory=ShowFilter)
    timeout_s: float | None = None
    match_advisories: bool = True


def _ignore_files(options: ScanOptions) -> list[str]:
    if options.ignore_files:
        return list(options.ignore_files)
    return [DEFAULT_IGNORE_FILE] if Path(DEFAULT_IGNORE_FILE).is_file() else []


def _warn(report: Report, acceptance: Acceptance) -> None:
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


def exit_status(report: Report, options: ScanOptions) -> int:
    """``--fail-on``/``--exit-code``: non-zero when a CVE or content finding (after filters) qualifies."""
    if options.fail_on is None and options.exit_code is None:
        return 0
    limit = severity_rank(options.fail_on.upper()) if options.fail_on else severity_rank("UNKNOWN")
    failing = any(
        f.category in FAIL_ON_CATEGORIES and severity_rank(f.severity) <= limit for f in report.findings
    )
    return (EXIT_FINDINGS if options.exit_code is None else options.exit_code) if failing else 0


async def run_scan(settings: Settings, target: str, options: ScanOptions) -> int:
    """Scan one target, print the chosen format, and return the exit code."""
    try:
        acceptance = load_acceptance(
            _ignore_files(options), options.vex_files, ignore_unfixed=options.ignore_unfixed
        )
    except OSError as exc:
        print(f"assay: error: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_ERROR
    try:
        ruleset = load_ruleset_file(Path(options.ruleset_file)) if options.ruleset_file else DEFAULT_RULESET
        scanning = scan_report(
            settings, target, acceptance, ruleset, match_advisories=options.match_advisories
        )
        report = await asyncio.wait_for(scanning, options.timeout_s)
    except TimeoutError:
        print(
            f"assay: error: {target}: the scan did not finish within {options.timeout_s:g}s", file=sys.stderr
        )
        return EXIT_ERROR
    except AssayError as exc:
        print(f"assay: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    report = filter_report(report, options.show)
    text = formatter(options.fmt)(report)
    if options.output:
        await asyncio.to_thread(Path(options.output).write_text, text)
    else:
        sys.stdout.write(text)
    _warn(report, acceptance)
    return exit_status(report, options)
