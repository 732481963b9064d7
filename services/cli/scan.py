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
finding to the report's ``suppressed`` list with the reason; a ruleset file's ``ignore_files``,
``vex`` and ``ignore_unfixed`` keys add to them (as they apply in the policy service). Coverage
gaps (an end-of-life or unknown distribution, an ecosystem without advisory data) are
``Coverage`` findings.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from schemas.vocabulary import DETECTION_CATEGORIES, severity_rank
from services.cli.formats import formatter
from services.cli.scan_filter import ShowFilter, filter_report
from services.common.clock import utcnow
from services.common.errors import AssayError
from services.engine.usecase import scan_local
from services.policy.assess import assess
from services.policy.catalog import load_ruleset_file
from services.policy.report import Report
from services.policy.ruleset import DEFAULT_RULESET, Ruleset
from services.policy.suppress_accept import Acceptance, combined, load_acceptance

if TYPE_CHECKING:
    from services.settings import Settings

EXIT_FINDINGS = 1
EXIT_ERROR = 2
DEFAULT_IGNORE_FILE = ".assayignore"  # read from the working directory, as Trivy reads .trivyignore
FAIL_ON_CATEGORIES = frozenset({"CVE", *DETECTION_CATEGORIES})


async def scan_report(
    settings: Settings,
    target: str,
    acceptance: Acceptance,
    ruleset: Ruleset = DEFAULT_RULESET,
    *,
    match_advisories: bool = True,
    progress: bool = False,
) -> Report:
    """Scan one target and assess it: the report ``assay scan`` prints.

    The engine's scan use case (``services/engine/usecase.py``) then policy's assessment
    (``services/policy/assess.py``), as the Harbor adapter composes them.
    """
    detections = await scan_local(settings, target, match_advisories=match_advisories, progress=progress)
    return assess(detections, acceptance, dt.date.fromisoformat(utcnow()[:10]), ruleset)


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
    progress: bool = False  # bars per layer on stderr (``wants_progress``: a terminal, no NO_COLOR)
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
            settings,
            target,
            acceptance,
            ruleset,
            match_advisories=options.match_advisories,
            progress=options.progress,
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
    _warn(report, combined(acceptance, ruleset.acceptance))  # the ruleset's ignore/VEX problems too
    return exit_status(report, options)
