"""Output formats: pure functions from a report to text, in one registry."""

from collections.abc import Callable

from services.cli.formats.cyclonedx import render_cyclonedx
from services.cli.formats.json_format import render_json
from services.cli.formats.report import Report, build_report
from services.cli.formats.table import render_table

FORMATTERS: dict[str, Callable[[Report], str]] = {
    "table": render_table,
    "json": render_json,
    "cyclonedx": render_cyclonedx,
}

__all__ = ["FORMATTERS", "Report", "build_report"]
