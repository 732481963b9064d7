"""Output formats: pure functions from a report to text, in one registry.

Renderers are imported when first used: the SBOM libraries take a noticeable share of a
second to import, which ``assay scan --format table`` should not pay.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from services.policy.report import Report, build_report

# format name -> "module:function" (the SBOM writers are policy's, shared with the console)
_RENDERERS: dict[str, str] = {
    "table": "services.cli.formats.table:render_table",
    "json": "services.cli.formats.json_format:render_json",
    "cyclonedx": "services.policy.sbom.cyclonedx:render_cyclonedx",
    "spdx": "services.policy.sbom.spdx:render_spdx",
    "sarif": "services.cli.formats.sarif:render_sarif",
}

FORMATS: tuple[str, ...] = tuple(_RENDERERS)


def formatter(name: str) -> Callable[[Report], str]:
    """The renderer for a format name (one of ``FORMATS``)."""
    module, function = _RENDERERS[name].split(":")
    render: Callable[[Report], str] = getattr(importlib.import_module(module), function)
    return render


__all__ = ["FORMATS", "Report", "build_report", "formatter"]
