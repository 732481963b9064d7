"""The Image page's view of a stored scan: layers with their commands, packages, findings per layer.

Read from the latest scan the policy stored for the digest (``services/common/store/scans.py``). A stored
document that does not decode is shown as a note naming the scan and the reason, never an error
page: the rest of the image (status, findings) is still worth seeing.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from schemas.records import ImageInfo, LayerInfo, PackageRecord
from services.api.store import FindingView, Reads
from services.common.store.scans import latest_scans

__all__ = ["Inventory", "LayerRow", "ScanView", "latest_inventory", "scan_view"]


class LayerRow(msgspec.Struct, frozen=True, kw_only=True):
    """One layer, in image order, with the command that made it and the findings it brought."""

    index: int
    layer: LayerInfo
    findings: list[FindingView] = []
    packages: int = 0


class ScanView(msgspec.Struct, frozen=True, kw_only=True):
    """What the Image page shows of a scan; ``notes`` say what could not be shown and why."""

    scan_id: str = ""
    layers: list[LayerRow] = []
    packages: list[PackageRecord] = []
    unplaced: list[FindingView] = []  # findings of no known layer (image config, ImageScan)
    notes: list[str] = []


def _layers(info: ImageInfo, findings: Sequence[FindingView], packages: Sequence[PackageRecord]) -> ScanView:
    by_layer: dict[str, list[FindingView]] = {}
    for f in findings:
        by_layer.setdefault(f.layer_digest, []).append(f)
    rows: list[LayerRow] = []
    placed: set[str] = set()
    for n, layer in enumerate(info.layers, start=1):
        # a finding names its layer by blob digest or by diff_id, depending on who found it
        keys = {layer.digest, layer.diff_id} - {""}
        placed |= keys
        rows.append(
            LayerRow(
                index=n,
                layer=layer,
                findings=[f for key in sorted(keys) for f in by_layer.get(key, [])],
                packages=sum(1 for p in packages if p.layer_digest in keys),
            )
        )
    unplaced = [f for f in findings if f.layer_digest not in placed]
    return ScanView(layers=rows, packages=list(packages), unplaced=unplaced)


class Inventory(msgspec.Struct, frozen=True, kw_only=True):
    """The latest stored scan of an image, decoded: its description and packages. ``notes`` say what
    could not be read (then ``image`` or ``packages`` is empty): a page shows them, an SBOM refuses."""

    scan_id: str
    image: ImageInfo
    packages: list[PackageRecord] = []
    notes: list[str] = []


async def latest_inventory(reads: Reads, digest: str) -> Inventory | None:
    """The latest stored scan of ``digest``, decoded; None when none is stored."""
    scans = await latest_scans(reads.pool, digest)
    if not scans:
        return None
    scan = scans[0]
    notes: list[str] = []
    try:
        info = msgspec.json.decode(scan.image_json, type=ImageInfo)
    except msgspec.DecodeError as exc:
        notes.append(f"scan {scan.scan_id}: its image description is unreadable: {exc}")
        info = ImageInfo(ref="")
    packages: list[PackageRecord] = []
    if scan.packages_ref:
        where = scan.packages_ref
        notes.append(f"scan {scan.scan_id}: its package inventory is kept in the object store at {where}")
    else:
        try:
            packages = msgspec.json.decode(scan.packages_json, type=list[PackageRecord])
        except msgspec.DecodeError as exc:
            notes.append(f"scan {scan.scan_id}: its package inventory is unreadable: {exc}")
    return Inventory(scan_id=scan.scan_id, image=info, packages=packages, notes=notes)


async def scan_view(reads: Reads, digest: str, findings: Sequence[FindingView]) -> ScanView:
    """The latest stored scan of ``digest`` laid out by layer; empty with a note when there is none."""
    inventory = await latest_inventory(reads, digest)
    if inventory is None:
        return ScanView(unplaced=list(findings), notes=["no stored scan of this image yet"])
    view = _layers(inventory.image, findings, inventory.packages)
    return msgspec.structs.replace(view, scan_id=inventory.scan_id, notes=inventory.notes)
