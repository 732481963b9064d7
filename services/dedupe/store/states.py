"""Dedupe's image states as rows: what ``assay up``, ``assay service`` summaries and the
pipeline's tests read to see the claim machine (requested/published times, generations).

People and other systems read images through the API's read model (``services/api/store``);
this is the state machine's own view, with the columns only dedupe writes.
"""

from __future__ import annotations

from typing import Any

from services.common.clock import rfc3339
from services.common.store._errors import translated

__all__ = ["image_states"]


async def image_states(pool: Any) -> list[dict[str, Any]]:
    """Every known image with its status and environments.

    Keys: digest, image_ref, status, error, scan_id, first_seen, updated_at, scanned_at,
    requested_at, published_at (RFC 3339 strings or None), scannable, scan_generation,
    request_reason, environments and ous (sorted, distinct).
    """
    with translated("read images"):
        records = await pool.fetch(
            """
            SELECT i.digest, i.image_ref, i.status, i.error, i.scan_id,
                   i.first_seen, i.updated_at, i.scanned_at, i.requested_at, i.published_at,
                   i.scannable, i.scan_generation, i.request_reason,
                   COALESCE(array_agg(DISTINCT e.environment ORDER BY e.environment)
                            FILTER (WHERE e.environment IS NOT NULL), '{}') AS environments,
                   COALESCE(array_agg(DISTINCT e.ou ORDER BY e.ou)
                            FILTER (WHERE e.ou <> ''), '{}') AS ous
            FROM images i LEFT JOIN image_environments e ON e.digest = i.digest
            GROUP BY i.digest
            ORDER BY i.first_seen, i.digest
            """
        )
    return [_row(r) for r in records]


_KEYS = (
    "digest",
    "image_ref",
    "status",
    "error",
    "scan_id",
    "first_seen",
    "updated_at",
    "scanned_at",
    "requested_at",
    "published_at",
    "scannable",
    "scan_generation",
    "request_reason",
)
_TIMES = frozenset({"first_seen", "updated_at", "scanned_at", "requested_at", "published_at"})


def _row(r: Any) -> dict[str, Any]:
    row = {
        key: (rfc3339(r[key]) if r[key] is not None else None) if key in _TIMES else r[key] for key in _KEYS
    }
    return {**row, "environments": list(r["environments"]), "ous": list(r["ous"])}
