"""Table output: what a person reads in a terminal."""

from __future__ import annotations

from collections.abc import Sequence

from schemas.records import Finding, VulnMatch
from services.policy.report import Report, match_index
from services.policy.rules import DETECTION_CATEGORIES
from services.policy.ruleset import severity_rank

_STATE_WORDS = {"not-fixed": "(not fixed)", "wont-fix": "(won't fix)"}


def _fixed(f: Finding, m: VulnMatch | None) -> str:
    if f.fixed_version:
        return f.fixed_version
    if f.category != "CVE":
        return "-"
    return _STATE_WORDS.get(m.fix_state if m is not None else "", "(no fix)")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = min(max(widths[i], len(cell)), 60)

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c[:60].ljust(widths[i]) for i, c in enumerate(cells)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(r) for r in rows)
    return "\n".join(out)


def _short_layer(digest: str) -> str:
    return digest[7:19] if digest.startswith("sha256:") else digest[:12]


def _detections_section(findings: Sequence[Finding]) -> list[str]:
    """Content-analyzer findings grouped by category, most severe first (severity after the ruleset);
    evidence is already redacted."""
    by_category: dict[str, list[Finding]] = {}
    for f in findings:
        by_category.setdefault(f.category, []).append(f)
    out: list[str] = []
    for category in sorted(by_category):
        found = sorted(by_category[category], key=lambda f: (severity_rank(f.severity), f.id, f.path))
        rows = [
            [
                f.severity,
                f.id,
                (f.path or "(image config)") + (" (deleted later)" if f.deleted else ""),
                _short_layer(f.layer_digest),
                f.evidence,
            ]
            for f in found
        ]
        out += ["", f"{category} ({len(found)}):"]
        out.append(_table(["SEVERITY", "RULE", "PATH", "LAYER", "EVIDENCE"], rows))
    return out


def render_table(report: Report) -> str:
    """A summary line, then findings (most severe first), unknowns and notes."""
    img = report.image
    distro = f"{img.distro.id} {img.distro.version_id}" if img.distro else "unknown OS"
    counts = ", ".join(f"{k}: {v}" for k, v in report.counts.items() if v)
    parts = [
        f"{img.ref} ({img.digest or 'no digest'}) — {distro}, {len(report.packages)} packages, "
        f"{len(report.findings)} findings" + (f" ({counts})" if counts else ""),
        "",
    ]
    detections = [f for f in report.findings if f.category in DETECTION_CATEGORIES]
    listed = [f for f in report.findings if f.category not in DETECTION_CATEGORIES]
    if listed:
        index = match_index(report)
        rows = []
        for f in listed:
            m = index.get((f.id, f.purl)) if f.category == "CVE" else None
            rows.append(
                [
                    f.category,
                    f.id,
                    f.severity,
                    "KEV" if m is not None and m.known_exploited else "",
                    f.package_name,
                    f.installed_version,
                    _fixed(f, m),
                    f.layer_digest[7:19] if f.layer_digest.startswith("sha256:") else f.layer_digest[:12],
                ]
            )
        headers = ["CATEGORY", "ID", "SEVERITY", "EXPLOITED", "PACKAGE", "INSTALLED", "FIXED", "LAYER"]
        parts.append(_table(headers, rows))
    elif not detections:
        parts.append("No findings.")
    if report.suppressed:
        kinds: dict[str, int] = {}
        for s in report.suppressed:
            kinds[s.kind] = kinds.get(s.kind, 0) + 1
        detail = ", ".join(f"{k}: {n}" for k, n in sorted(kinds.items()))
        parts += ["", f"{len(report.suppressed)} findings suppressed ({detail}); --format json lists them"]
    if report.expired_ignores:
        parts += ["", "Expired ignore entries (no longer suppressing):"]
        parts += [
            f"  {e.id}{' ' + e.package if e.package else ''}: expired {e.expires} ({e.source}), "
            f"{e.matches} finding(s) no longer suppressed"
            for e in report.expired_ignores
        ]
    parts += _detections_section(detections)
    if report.alert:
        parts += ["", f"ALERT: {report.alert}"]
    if report.unknowns:
        parts += ["", "Could not read:"]
        parts += [f"  {u.path} (layer {u.layer_digest[:19] or '-'}): {u.reason}" for u in report.unknowns]
    if report.notes:
        parts += ["", "Notes:"] + [f"  {n}" for n in report.notes]
    return "\n".join(parts) + "\n"
