"""The replay as an SVG chart, written by hand (no plotting dependency for four polylines).

Top panel: inventory events acknowledged by the broker, events committed by dedupe and the
dedupe group's lag, over seconds since the first send. Bottom panel: scan requests seen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path

from loadtest.report import LoadReport, Sample

__all__ = ["render_svg", "write_chart"]

_W, _PANEL_H, _LEFT, _RIGHT, _TOP = 760, 220, 70, 20, 60


def _axis_max(value: float) -> float:
    """A round number at or above ``value`` for the axis top."""
    if value <= 0:
        return 1.0
    step = 10 ** (len(str(int(value))) - 1)
    return float(((int(value) // step) + 1) * step)


def _panel(
    samples: Sequence[Sample],
    top: int,
    t_max: float,
    series: Sequence[tuple[str, str, Callable[[Sample], float]]],
) -> list[str]:
    y_max = _axis_max(max((get(s) for s in samples for _, _, get in series), default=0))
    plot_w = _W - _LEFT - _RIGHT

    def x(t: float) -> float:
        return _LEFT + plot_w * t / t_max

    def y(v: float) -> float:
        return top + _PANEL_H - _PANEL_H * v / y_max

    out = [
        f'<rect x="{_LEFT}" y="{top}" width="{plot_w}" height="{_PANEL_H}" fill="none" stroke="#999"/>',
        f'<text x="{_LEFT - 6}" y="{top + 4}" text-anchor="end">{y_max:,.0f}</text>',
        f'<text x="{_LEFT - 6}" y="{top + _PANEL_H}" text-anchor="end">0</text>',
        f'<text x="{_LEFT}" y="{top + _PANEL_H + 16}">0 s</text>',
        f'<text x="{_W - _RIGHT}" y="{top + _PANEL_H + 16}" text-anchor="end">{t_max:.1f} s</text>',
    ]
    for index, (label, colour, get) in enumerate(series):
        points = " ".join(f"{x(s.t_s):.1f},{y(get(s)):.1f}" for s in samples)
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>')
        out.append(
            f'<text x="{_LEFT + 10 + 200 * index}" y="{top - 6}" fill="{colour}">{escape(label)}</text>'
        )
    return out


def render_svg(report: LoadReport) -> str:
    """The chart of ``report``'s samples, with the headline figures as its title."""
    samples = report.samples or [Sample(0.0, 0, 0, 0)]
    t_max = max(s.t_s for s in samples) or 1.0
    height = _TOP + 2 * (_PANEL_H + 50)
    per_core = (
        f", {report.events_per_dedupe_cpu_s:,.0f} events per dedupe CPU-second"
        if report.events_per_dedupe_cpu_s is not None
        else ""
    )
    title = (
        f"{report.events:,} inventory events, {report.distinct_digests:,} digests: "
        f"{report.events_per_s_through_dedupe:,.0f} events/s through dedupe{per_core}"
    )
    lat = report.latency_ms
    subtitle = (
        f"{report.scans_requested:,} scans requested, {report.duplicate_scans} duplicate scans; "
        f"latency p50 {lat.get('p50', 0):,.0f} ms, p99 {lat.get('p99', 0):,.0f} ms; "
        f"max lag {report.max_lag:,}"
    )
    body = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{height}" '
        'font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{_LEFT}" y="18" font-size="13" font-weight="bold">{escape(title)}</text>',
        f'<text x="{_LEFT}" y="34">{escape(subtitle)}</text>',
        *_panel(
            samples,
            _TOP,
            t_max,
            [
                ("accepted by the broker", "#1f77b4", lambda s: s.produced),
                ("committed by dedupe", "#2ca02c", lambda s: max(0, s.produced - s.lag)),
                ("dedupe consumer lag", "#d62728", lambda s: s.lag),
            ],
        ),
        *_panel(samples, _TOP + _PANEL_H + 50, t_max, [("scan requests seen", "#9467bd", lambda s: s.scans)]),
        "</svg>",
    ]
    return "\n".join(body) + "\n"


def write_chart(report: LoadReport, path: Path) -> None:
    """Write ``render_svg(report)`` to ``path``."""
    path.write_text(render_svg(report))
