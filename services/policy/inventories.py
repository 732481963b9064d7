"""Where stored package inventories live: inline in PostgreSQL, or in the object store.

With an object store configured (S3 when ``aws.s3_bucket`` is set, else ``object_store_dir``)
each scan's package list is written to ``inventories/<digest>/<scan id>.json`` *before* the
``scans`` row that names it (``packages_ref``), so a row never points at a missing object and a
replayed scan rewrites the same object. PostgreSQL then keeps only the image description and
unknowns; rematch reads the packages back through ``packages_json``. Without an object store the
inventory stays inline in ``scans.packages`` as before.
"""

from __future__ import annotations

import msgspec

from schemas.events import ScanCompleted
from services.common.errors import StoreError
from services.common.objectstore import ObjectStore
from services.common.store.postgres import Store
from services.common.store.scans import StoredScan

__all__ = ["Inventories", "MissingInventory", "inventory_key"]


class MissingInventory(StoreError):
    """A scan row names an inventory object that is not there (deleted, or another bucket)."""


def inventory_key(digest: str, scan_id: str) -> str:
    """The object key of a scan's package inventory."""
    return f"inventories/{digest.replace(':', '/')}/{scan_id}.json"


class Inventories:
    """Saves each scan's inventory and reads it back for rematching."""

    def __init__(self, store: Store, objects: ObjectStore | None = None) -> None:
        self._store = store
        self._objects = objects

    async def save(self, event: ScanCompleted) -> None:
        """Keep the scan's image description, package inventory and unknowns (a replay is a no-op)."""
        packages = msgspec.json.encode(event.packages)
        ref = ""
        if self._objects is not None:
            ref = inventory_key(event.image.digest, event.scan_id)
            await self._objects.put(ref, packages)
            packages = b"[]"
        await self._store.save_scan(
            event.scan_id,
            event.image.digest,
            msgspec.json.encode(event.image),
            packages,
            msgspec.json.encode(event.unknowns),
            event.analyzer_version,
            packages_ref=ref,
        )

    async def packages_json(self, scan: StoredScan) -> str | bytes:
        """The stored package list of ``scan`` as JSON; StoreError when its object is gone."""
        if not scan.packages_ref:
            return scan.packages_json
        if self._objects is None:
            raise StoreError(
                f"scan {scan.scan_id} keeps its inventory at {scan.packages_ref}, "
                "but no object store is configured"
            )
        data = await self._objects.get(scan.packages_ref)
        if data is None:
            where = self._objects.describe(scan.packages_ref)
            raise MissingInventory(f"scan {scan.scan_id}: its inventory {where} is missing")
        return data
