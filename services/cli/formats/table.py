"""Table output: what a person reads in a terminal."""

from __future__ import annotations

from collections.abc import Sequence

from services.cli.formats.report import Report


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
    if report.findings:
        rows = [
            [
                f.category,
                f.id,
                f.severity,
                f.package_name,
                f.installed_version,
                f.fixed_version or ("-" if f.category != "CVE" else "(no fix)"),
                f.layer_digest[7:19] if f.layer_digest.startswith("sha256:") else f.layer_digest[:12],
            ]
            for f in report.findings
        ]
        parts.append(_table(["CATEGORY", "ID", "SEVERITY", "PACKAGE", "INSTALLED", "FIXED", "LAYER"], rows))
    else:
        parts.append("No findings.")
    if report.alert:
        parts += ["", f"ALERT: {report.alert}"]
    if report.unknowns:
        parts += ["", "Could not read:"]
        parts += [f"  {u.path} (layer {u.layer_digest[:19] or '-'}): {u.reason}" for u in report.unknowns]
    if report.notes:
        parts += ["", "Notes:"] + [f"  {n}" for n in report.notes]
    return "\n".join(parts) + "\n"
