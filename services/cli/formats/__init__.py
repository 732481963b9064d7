"""Output formats: pure functions from a report to text, in one registry.

Renderers are imported when first used: the SBOM libraries take a noticeable share of a
second to import, which ``assay scan --format table`` should not pay.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from services.policy.report import Report, build_report

# format name -> "module:function" under services.cli.formats
_RENDERERS: dict[str, str] = {
    "table": "table:render_table",
    "json": "json_format:render_json",
    "cyclonedx": "cyclonedx:render_cyclonedx",
    "spdx": "spdx:render_spdx",
    "sarif": "sarif:render_sarif",
}

FORMATS: tuple[str, ...] = tuple(_RENDERERS)


def formatter(name: str) -> Callable[[Report], str]:
    """The renderer for a format name (one of ``FORMATS``)."""
    module, function = _RENDERERS[name].split(":")
    render: Callable[[Report], str] = getattr(
        importlib.import_module(f"services.cli.formats.{module}"), function
    )
    return render


__all__ = ["FORMATS", "Report", "build_report", "formatter"]
