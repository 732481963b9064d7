"""The engine's one job, shared by ``assay scan`` and the workers: image in, detections out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from schemas.events import ScanCompleted
from services.engine.analyze import analyze
from services.engine.catalogers.interface import Cataloger
from services.engine.content.interface import ContentAnalyzer
from services.engine.image.interface import OpenedImage
from services.vulndb.db import VulnDB
from services.vulndb.matcher import match_packages

ANALYZER_VERSION = "0.1.0"


def utcnow() -> str:
    """Now, as RFC 3339 UTC (the only clock the engine reads)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def detect(
    image: OpenedImage,
    *,
    scan_id: str,
    catalogers: Sequence[Cataloger],
    vulndb: VulnDB | None,
    environments: Sequence[str] = (),
    analyzers: Sequence[ContentAnalyzer] = (),
) -> ScanCompleted:
    """Inventory the image, run the content analyzers and match packages against advisories."""
    analysis = await analyze(image, catalogers, analyzers)
    notes: list[str] = []
    matches = []
    if vulndb is None:
        notes.append("no advisory database loaded: vulnerability matching skipped (run `assay db update`)")
    else:
        result = match_packages(vulndb, analysis.image.distro, analysis.packages)
        matches = result.matches
        notes.extend(result.notes)
    if analysis.image.distro is None and analysis.packages:
        notes.append("operating system not recognised: OS packages cannot be matched to advisories")
    return ScanCompleted(
        scan_id=scan_id,
        image=analysis.image,
        packages=analysis.packages,
        matches=matches,
        unknowns=analysis.unknowns,
        detections=analysis.detections,
        notes=notes,
        environments=list(environments),
        analyzer_version=ANALYZER_VERSION,
        completed_at=utcnow(),
    )
