"""The engine service's core: a scan request in, detections (or a failure) out.

Plain async code with no transport in sight; ``services.cli.service`` connects it to the bus.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from schemas.events import Event, ScanFailed, ScanRequested
from schemas.topics import Topics
from services.common.config import Settings
from services.common.errors import AssayError
from services.common.runner import Handler, Outgoing
from services.engine.catalogers.interface import Cataloger
from services.engine.content.registry import ContentAnalysis
from services.engine.core import detect, utcnow
from services.engine.image.targets import parse_target
from services.vulndb.db import VulnDB

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineDeps:
    """What a worker needs, built once at start-up."""

    settings: Settings
    catalogers: tuple[Cataloger, ...]
    vulndb: VulnDB | None
    content: ContentAnalysis | None = None  # content analyzers and the per-layer cache


def make_engine_handler(deps: EngineDeps) -> Handler:
    """The handler for ``assay.scan-requests.v1``: idempotent on the digest."""

    async def handle(event: Event) -> Sequence[Outgoing]:
        if not isinstance(event, ScanRequested):
            return []
        source = parse_target(
            event.image_ref, registries=deps.settings.registries, platform=deps.settings.platform
        )
        started = time.monotonic()
        log.info("engine: scanning %s (scan %s)", event.image_ref, event.scan_id)
        try:
            image = await source.open()
            async with image:
                bound = deps.content.bind(image.info.layers) if deps.content else None
                completed = await detect(
                    image,
                    scan_id=event.scan_id,
                    catalogers=deps.catalogers,
                    vulndb=deps.vulndb,
                    environments=event.environments,
                    analyzers=bound.analyzers if bound else (),
                )
                if bound:
                    bound.commit()
        except AssayError as exc:
            failed = ScanFailed(
                scan_id=event.scan_id,
                digest=event.digest,
                image_ref=event.image_ref,
                error=str(exc),
                failed_at=utcnow(),
            )
            log.warning("engine: scan of %s failed: %s", event.image_ref, exc)
            return [Outgoing(Topics.DETECTIONS, event.digest, failed)]
        log.info(
            "engine: scanned %s in %.1fs: %d packages, %d matches, %d detections, %d unknowns",
            event.image_ref,
            time.monotonic() - started,
            len(completed.packages),
            len(completed.matches),
            len(completed.detections),
            len(completed.unknowns),
        )
        return [Outgoing(Topics.DETECTIONS, event.digest, completed)]

    return handle
