"""JSON output: the report as is."""

from __future__ import annotations

import msgspec

from services.cli.formats.report import Report


def render_json(report: Report) -> str:
    """The report as indented JSON."""
    return msgspec.json.format(msgspec.json.encode(report).decode(), indent=2) + "\n"
