"""What ``assay scan`` shows, as Trivy users expect: ``--severity``, ``--skip-dirs``, ``--skip-files``.

A pure function of the report. Skipped paths drop the packages found only there (and their
findings), the content detections and unknowns at those paths; ``--severity`` keeps the findings
of the listed severities. ``counts`` is recounted over what remains, so the table, the JSON and
the exit code agree with each other. Paths compare without their leading ``/`` or ``./``, the way
Trivy writes them (``usr/lib/python3``); patterns are globs where ``**`` crosses directories.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import msgspec

from services.policy.report import Report
from services.policy.ruleset import counts_by_severity

__all__ = ["ShowFilter", "compile_globs", "filter_report"]


class ShowFilter(msgspec.Struct, frozen=True, kw_only=True):
    """The user's choice of what to show; empty: everything."""

    severities: list[str] = []  # CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN
    skip_dirs: list[str] = []
    skip_files: list[str] = []

    @property
    def is_empty(self) -> bool:
        """True when nothing is filtered."""
        return not (self.severities or self.skip_dirs or self.skip_files)


def _relative(path: str) -> str:
    return path.removeprefix("./").lstrip("/")


def _glob(pattern: str) -> str:
    out: list[str] = []
    for token in re.split(r"(\*\*/?|\*|\?)", _relative(pattern).rstrip("/")):
        if token in ("**", "**/"):
            out.append("(?:.*/)?" if token == "**/" else ".*")
        elif token == "*":
            out.append("[^/]*")
        elif token == "?":
            out.append("[^/]")
        else:
            out.append(re.escape(token))
    return "".join(out)


def compile_globs(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One regex matching a relative path against any of ``patterns`` (None for no patterns)."""
    parts = [_glob(p) for p in patterns if _relative(p).strip("/")]
    return re.compile(f"^(?:{'|'.join(parts)})$") if parts else None


class _Skipper:
    def __init__(self, skip_dirs: Sequence[str], skip_files: Sequence[str]) -> None:
        self._dirs = compile_globs(skip_dirs)
        self._files = compile_globs(skip_files)

    def skipped(self, path: str) -> bool:
        rel = _relative(path)
        if not rel:
            return False  # the image config: no path to skip
        if self._files is not None and self._files.match(rel):
            return True
        if self._dirs is None:
            return False
        parts = rel.split("/")
        return any(self._dirs.match("/".join(parts[:i])) for i in range(1, len(parts)))


def filter_report(report: Report, show: ShowFilter) -> Report:
    """``report`` with what ``show`` leaves out removed, and its counts recounted."""
    if show.is_empty:
        return report
    skip = _Skipper(show.skip_dirs, show.skip_files)
    packages = [
        p for p in report.packages if not p.locations or not all(skip.skipped(x) for x in p.locations)
    ]
    kept_purls = {p.purl for p in packages}
    dropped_purls = {p.purl for p in report.packages} - kept_purls
    wanted = {s.upper() for s in show.severities}

    def keep(severity: str, purl: str, path: str) -> bool:
        if wanted and severity.upper() not in wanted:
            return False
        return purl not in dropped_purls and not (path and skip.skipped(path))

    findings = [f for f in report.findings if keep(f.severity, f.purl, f.path)]
    counted = [f for f in findings if f.category == "CVE" and not f.suppression]
    return msgspec.structs.replace(
        report,
        packages=packages,
        findings=findings,
        counts=counts_by_severity(counted),
        matches=[m for m in report.matches if keep(m.severity, m.package_purl, "")],
        suppressed=[s for s in report.suppressed if keep(s.finding.severity, s.finding.purl, s.finding.path)],
        detections=[d for d in report.detections if keep(d.severity, d.package_purl, d.path)],
        unknowns=[u for u in report.unknowns if not skip.skipped(u.path)],
    )
