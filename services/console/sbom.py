"""SBOM downloads on the Image page: the latest stored scan's inventory as CycloneDX 1.6 or SPDX 2.3.

The documents are written by the same writers as ``assay scan --format cyclonedx|spdx``
(``services/policy/sbom``), from the image description and packages the policy stored for the
digest, so a download and a CLI scan of the same image describe it the same way (without
vulnerabilities: an SBOM is the inventory). An image outside the caller's scope is not found; an
image without a readable stored inventory answers 409 naming the scan and the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Final

import msgspec
from aiohttp import web

from services.console.base import guarded, not_found, page, reads_of
from services.console.scans import latest_inventory
from services.policy.report import Report

__all__ = ["FORMATS", "add_sbom_routes"]

# format in the URL -> (content type, file name suffix)
FORMATS: Final = {
    "cyclonedx": ("application/vnd.cyclonedx+json", "cdx.json"),
    "spdx": ("application/spdx+json", "spdx.json"),
}


def _renderer(kind: str) -> Callable[[Report], str]:
    # imported on first download: the CycloneDX and SPDX libraries are slow to import and most
    # API processes never need them
    if kind == "cyclonedx":
        from services.policy.sbom.cyclonedx import render_cyclonedx

        return render_cyclonedx
    from services.policy.sbom.spdx import render_spdx

    return render_spdx


async def _sbom(request: web.Request) -> web.StreamResponse:
    digest, kind = request.match_info["digest"], request.match_info["format"]
    if kind not in FORMATS:
        return not_found(request, f"no SBOM format {kind!r} (one of {', '.join(FORMATS)})")
    reads = reads_of(request)
    image = await reads.image(digest)
    if image is None:
        return not_found(request, f"no image with digest {digest!r}")
    inventory = await latest_inventory(reads, digest)
    if inventory is None:
        return not_found(request, f"no stored scan of {digest} yet: nothing to describe")
    if inventory.notes:
        return page(request, "error.html", 409, title="SBOM unavailable", message="; ".join(inventory.notes))
    described = msgspec.structs.replace(
        inventory.image, ref=inventory.image.ref or image.image_ref or digest, digest=digest
    )
    report = Report(
        image=described,
        packages=inventory.packages,
        findings=[],
        counts={},
        generated_at=image.scanned_at or "",
    )
    text = await asyncio.to_thread(_renderer(kind), report)  # SPDX validates while writing: not on the loop
    content_type, suffix = FORMATS[kind]
    response = web.Response(text=text, content_type=content_type, charset="utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{digest.replace(":", "-")}.{suffix}"'
    return response


def add_sbom_routes(app: web.Application, wrap: Any = guarded) -> None:
    """Mount ``GET /console/images/{digest}/sbom/{format}`` (``format``: one of ``FORMATS``)."""
    app.router.add_get("/console/images/{digest}/sbom/{format}", wrap(_sbom), allow_head=False)
