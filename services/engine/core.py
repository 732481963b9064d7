"""The engine's one job, shared by ``assay scan`` and the workers: image in, detections out."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from schemas.events import ScanCompleted
from schemas.records import CoverageGap
from services.common.clock import utcnow
from services.engine.analyze import Analysis, analyze
from services.engine.budget import ScanBudget
from services.engine.catalogers.interface import Cataloger
from services.engine.content.interface import ContentAnalyzer
from services.engine.image.interface import OpenedImage
from services.vulndb.coverage import no_database
from services.vulndb.db import VulnDB
from services.vulndb.matcher import match_packages

ANALYZER_VERSION = "0.1.0"  # the catalogers and matching: raise it when their results change

__all__ = ["ANALYZER_VERSION", "analysis_version", "complete_scan", "detect"]


def analysis_version(analyzers: Sequence[ContentAnalyzer], engine_version: str = ANALYZER_VERSION) -> str:
    """What a scan's results depend on besides the image: ``<engine version>+<12 hex>`` of every
    content analyzer's name, version and ruleset fingerprint (rules files, feeds, policies,
    result-changing limits). Computed once by the engine, stamped on every ``ScanCompleted`` and
    recorded in PostgreSQL at start-up; dedupe and ``assay rescan`` read it from there."""
    material = "\x1f".join(f"{a.name}\x1e{a.version}\x1e{a.fingerprint()}" for a in analyzers)
    return f"{engine_version}+{hashlib.sha256(material.encode()).hexdigest()[:12]}"


async def detect(
    image: OpenedImage,
    *,
    scan_id: str,
    catalogers: Sequence[Cataloger],
    vulndb: VulnDB | None,
    environments: Sequence[str] = (),
    analyzers: Sequence[ContentAnalyzer] = (),
    version: str = ANALYZER_VERSION,
    budget: ScanBudget | None = None,
) -> ScanCompleted:
    """Inventory the image, run the content analyzers and match packages against advisories;
    ``version`` is the engine's analysis version (``analysis_version``)."""
    analysis = await analyze(image, catalogers, analyzers, budget)
    return complete_scan(analysis, scan_id=scan_id, vulndb=vulndb, environments=environments, version=version)


def complete_scan(
    analysis: Analysis,
    *,
    scan_id: str,
    vulndb: VulnDB | None,
    environments: Sequence[str] = (),
    version: str = ANALYZER_VERSION,
) -> ScanCompleted:
    """Match an image's analysis against advisories: its ``ScanCompleted``.

    The second half of ``detect``, separate so that the analysis can run in another process
    (``services.engine.isolate``) while the advisory database stays in this one.
    """
    notes: list[str] = []
    matches = []
    gaps: list[CoverageGap] = []
    if vulndb is None:
        notes.append("no advisory database loaded: vulnerability matching skipped (run `assay db update`)")
        gaps.append(no_database())
    else:
        result = match_packages(vulndb, analysis.image.distro, analysis.packages)
        matches = result.matches
        notes.extend(result.notes)
        gaps.extend(result.gaps)
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
        gaps=gaps,
        environments=list(environments),
        analyzer_version=version,
        completed_at=utcnow(),
    )
