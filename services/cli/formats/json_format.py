"""JSON output: the report as is."""

from __future__ import annotations

from services.policy.report import Report, report_json


def render_json(report: Report) -> str:
    """The report as indented JSON."""
    return report_json(report)
