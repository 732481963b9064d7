"""Exports of the Findings page's current selection: CSV for spreadsheets, JSON for tools.

JSON is the read API's ``FindingView`` list, so a tool reading an export reads the API's schema.
CSV cells that a spreadsheet would run as a formula (leading ``=``, ``+``, ``-``, ``@``, tab or
carriage return) are prefixed with ``'``: finding titles and paths come from scanned images, which
an attacker may have written (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Final

import msgspec

from services.api.store import FindingView

__all__ = ["CSV_COLUMNS", "findings_csv", "findings_json"]

CSV_COLUMNS: Final[tuple[str, ...]] = (
    "finding_id",
    "severity",
    "category",
    "id",
    "title",
    "package_name",
    "installed_version",
    "fixed_version",
    "purl",
    "image_ref",
    "digest",
    "environments",
    "ruleset",
    "state",
    "known_exploited",
    "cvss_score",
    "cvss_vector",
    "severity_source",
    "epss",
    "path",
    "layer_digest",
    "suppression",
    "first_seen",
    "last_seen",
)
_FORMULA: Final = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if isinstance(value, list):
        text = " ".join(str(v) for v in value)
    elif value is None:
        text = ""
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def findings_csv(rows: Sequence[FindingView]) -> str:
    """``rows`` as CSV with a header line, one finding per line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for f in rows:
        writer.writerow([_cell(getattr(f, c)) for c in CSV_COLUMNS])
    return out.getvalue()


def findings_json(rows: Sequence[FindingView]) -> bytes:
    """``rows`` as a JSON array of the read API's finding objects."""
    return msgspec.json.encode(list(rows))
