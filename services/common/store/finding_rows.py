"""How a ``Finding`` maps to a ``findings`` row: the columns, the SELECT list and the conversion back.

The table is written by the policy service and read by the API, the admission gate and the CLI;
the mapping belongs to the table (its migrations live beside this), not to one of its readers.
"""

from __future__ import annotations

from typing import Any, Final

from schemas.records import Finding

__all__ = ["FINDING_COLUMNS", "FINDING_SELECT", "finding_values", "row_finding"]

# Every Finding field is a column of the same name, except ``id`` (the ``vuln_id`` column).
_SPECIAL: Final = ("finding_id", "id")
FINDING_COLUMNS: Final[tuple[str, ...]] = (
    "finding_id",
    "vuln_id",
    *(f for f in Finding.__struct_fields__ if f not in _SPECIAL),
)
_FLOATS: Final = ("cvss_score", "epss")  # double precision columns, read as float whatever the driver gives
FINDING_SELECT: Final = f"digest, state, {', '.join(FINDING_COLUMNS)}"


def row_finding(r: Any) -> Finding:
    """A ``Finding`` from a findings row selected with ``FINDING_SELECT``.

    Not checked against the vocabulary: rows stored before it may spell a severity otherwise
    (``critical``); they are read as stored and rank with UNKNOWN where the spelling is unknown.
    """
    fields: dict[str, Any] = {c: r[c] for c in FINDING_COLUMNS if c != "vuln_id"}
    fields.update({c: float(r[c]) for c in _FLOATS})
    return Finding(**fields, id=r["vuln_id"])


def finding_values(f: Finding) -> tuple[object, ...]:
    """The values of ``FINDING_COLUMNS`` for ``f``, in that order."""
    return (f.finding_id, f.id, *(getattr(f, c) for c in FINDING_COLUMNS[2:]))
