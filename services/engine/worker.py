"""The engine service's core: a scan request in, detections (or a failure) out.

Plain async code with no transport in sight; ``services.cli.service`` connects it to the bus.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from schemas.events import Event, ScanFailed, ScanRequested, ScanSkipped
from schemas.records import LayerInfo
from schemas.topics import Topics
from services.common.config import RegistryConfig, Settings
from services.common.errors import AssayError
from services.common.runner import Handler, Outgoing
from services.engine.catalogers.interface import Cataloger
from services.engine.content.registry import ContentAnalysis
from services.engine.core import detect, utcnow
from services.engine.image.registry import RegistryClient
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
    # builds each scan's RegistryClient (ECR credentials, registry host overrides); None: plain
    registry_client_factory: Callable[[Sequence[RegistryConfig]], RegistryClient] | None = None
    # called with (digest, scan id) as a scan starts: the store marks the image "scanning"
    on_start: Callable[[str, str], Awaitable[object]] | None = None


def image_size(layers: Sequence[LayerInfo]) -> int:
    """The bytes an image's layers take in the registry (their compressed sizes, from the manifest)."""
    return sum(max(0, layer.size) for layer in layers)


def make_engine_handler(deps: EngineDeps) -> Handler:
    """The handler for ``assay.scan-requests.v1``: idempotent on the digest."""

    async def handle(event: Event) -> Sequence[Outgoing]:
        if not isinstance(event, ScanRequested):
            return []
        if event.sites and deps.settings.engine_site not in event.sites:
            return []  # another site's engines scan it (registry <-> cluster links)
        source = parse_target(
            event.image_ref,
            registries=deps.settings.registries,
            platform=deps.settings.platform,
            client_factory=deps.registry_client_factory,
        )
        started = time.monotonic()
        log.info("engine: scanning %s (scan %s)", event.image_ref, event.scan_id)
        if deps.on_start is not None:
            await deps.on_start(event.digest, event.scan_id)
        limit = max(0, deps.settings.max_image_size_mb) << 20
        try:
            image = await source.open()  # the manifest and config only: layers stream in detect()
            async with image:
                size = image_size(image.info.layers)
                if 0 < limit < size:
                    log.info("engine: %s is too large (%d bytes), not pulled", event.image_ref, size)
                    skipped = ScanSkipped(
                        scan_id=event.scan_id,
                        digest=event.digest,
                        image_ref=event.image_ref,
                        status="too_large",
                        reason=f"{event.image_ref}: layers add up to {size} bytes, over "
                        f"max_image_size_mb={deps.settings.max_image_size_mb} ({limit} bytes)",
                        size_bytes=size,
                        skipped_at=utcnow(),
                    )
                    return [Outgoing(Topics.DETECTIONS, event.digest, skipped)]
                # the layer cache may be S3 (blocking botocore calls): off the event loop, which
                # also carries the other scans and the consumer's heartbeats
                bound = (
                    await asyncio.to_thread(deps.content.bind, image.info.layers) if deps.content else None
                )
                completed = await detect(
                    image,
                    scan_id=event.scan_id,
                    catalogers=deps.catalogers,
                    vulndb=deps.vulndb,
                    environments=event.environments,
                    analyzers=bound.analyzers if bound else (),
                )
                if bound:
                    await asyncio.to_thread(bound.commit)
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
