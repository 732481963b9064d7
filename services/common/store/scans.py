"""Stored scans (``scans``): the engine's image description and package inventory, per scan id.

The policy service stores them (``Store.save_scan``) and rematches from them; the console shows
the layers and packages of the latest one, so the read lives here, beside the table.
"""

from __future__ import annotations

from typing import Any

import msgspec

from services.common.store._errors import translated

__all__ = ["StoredScan", "latest_scans"]


class StoredScan(msgspec.Struct, frozen=True):
    """The latest stored scan of a digest: raw jsonb text as ``Store.save_scan`` stored it.

    ``packages_ref``: the inventory's object-store key when it is not inline
    (``services/policy/inventories.py``).
    """

    scan_id: str
    digest: str
    image_json: str
    packages_json: str
    packages_ref: str = ""


async def latest_scans(pool: Any, digest: str | None = None) -> list[StoredScan]:
    """The latest stored scan of each digest (or of ``digest`` only), by digest."""
    with translated("read stored scans"):
        rows = await pool.fetch(
            """
            SELECT DISTINCT ON (digest) scan_id, digest, image::text AS image,
                   packages::text AS packages, packages_ref
            FROM scans WHERE $1::text IS NULL OR digest = $1
            ORDER BY digest, completed_at DESC, scan_id
            """,
            digest,
        )
    return [StoredScan(r["scan_id"], r["digest"], r["image"], r["packages"], r["packages_ref"]) for r in rows]
