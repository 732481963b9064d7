"""The engine service's core: a scan request in, detections (or a failure) out.

Plain async code with no transport in sight; ``services/engine/main.py`` connects it to the bus.
The scan itself is the one scan use case (``usecase.scan_image``) ``assay scan`` runs too.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec

from schemas.events import Event, ScanCompleted, ScanFailed, ScanRequested, ScanSkipped
from schemas.records import LayerInfo
from schemas.topics import Topics
from services.common.clock import utcnow
from services.common.config import RegistryConfig
from services.common.errors import ImageError, ReferenceError_, RegistryError, VulnDBError
from services.common.runner import FATAL_ERRORS, Handler, Outgoing
from services.engine.catalogers.interface import Cataloger
from services.engine.content.bundles import ContentBundles
from services.engine.content.registry import ContentAnalysis
from services.engine.core import ANALYZER_VERSION
from services.engine.image.targets import TRANSPORTS
from services.engine.isolate import AnalysisTools, IsolatedRequest
from services.engine.usecase import scan_image
from services.oci.credentials.kube import PodPullSecrets, PullSecretResolver
from services.oci.registry import RegistryClient
from services.vulndb.builds import BuildHolder
from services.vulndb.db import VulnDB

if TYPE_CHECKING:
    from services.settings import Settings

log = logging.getLogger(__name__)

IMAGE_ERRORS: tuple[type[Exception], ...] = (ImageError, RegistryError, ReferenceError_)
"""What fails one scan (``ScanFailed``): the image, its reference or its registry."""

FATAL_ERRORS_ENGINE: tuple[type[BaseException], ...] = (*FATAL_ERRORS, VulnDBError)
"""What stops the engine's consumer (``run_service(fatal_errors=...)``) instead of dead-lettering
the request: a broken advisory database is no image's fault, and the supervisor restarts the worker."""

LOCAL_TRANSPORTS = frozenset(TRANSPORTS) - {"registry"}
"""Scan targets on the engine's own disk: ``assay scan`` reads them, the engine never does."""


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
    # the updater's builds (services/vulndb/builds.py): each scan leases the current one, which
    # then replaces ``vulndb``; switched without a restart
    advisories: BuildHolder | None = None
    analysis_version: str = ANALYZER_VERSION  # services.engine.core.analysis_version of ``content``
    # analyse each image in a child process (services/engine/isolate.py: settings.scan.isolation);
    # the child builds catalogers, content analyzers and registry clients from ``settings``
    isolate: bool = False
    # the updater's content bundles (engine/content/bundles.py): threat feeds, YARA rules and hash
    # lists; each scan takes the current analyzers, which then replace ``content``
    bundles: ContentBundles | None = None
    # reads the pods' own pull secrets for each pull (oci/credentials/kube.py); None: not used
    pull_secrets: PullSecretResolver | None = None

    async def pod_pull_secrets(self, event: ScanRequested) -> PodPullSecrets:
        """The pull secrets the pods running ``event``'s image name, read for this pull only."""
        if self.pull_secrets is None:
            return PodPullSecrets()
        return await self.pull_secrets.resolve(event.digest, event.environments)

    def content_now(self) -> tuple[Settings, ContentAnalysis | None, str]:
        """The settings, content analyzers and analysis version a scan starting now uses."""
        if self.bundles is None or self.content is None:
            return self.settings, self.content, self.analysis_version
        now = self.bundles.current()
        return now.settings, now.content, now.version

    @contextlib.contextmanager
    def advisory_db(self) -> Iterator[VulnDB | None]:
        """The advisory database for one scan: a lease on the current build, else ``vulndb``."""
        if self.advisories is None:
            yield self.vulndb
            return
        with self.advisories.lease() as db:
            yield db


def image_size(layers: Sequence[LayerInfo]) -> int:
    """The bytes an image's layers take in the registry (their compressed sizes, from the manifest)."""
    return sum(max(0, layer.size) for layer in layers)


def serves(site: str, sites: Sequence[str]) -> bool:
    """Whether an engine of ``site`` scans a request for ``sites``.

    A request for no site is anyone's; an engine without a site serves every site; an engine
    restricted to a site (``ASSAY_ENGINE_SITE``) serves only requests that name it.
    """
    return not sites or not site or site in sites


def local_target_refusal(event: ScanRequested) -> ScanFailed | None:
    """A ``ScanFailed`` for a request naming a local target (``dir:``, ``oci:``, archives), else None.

    Anyone who can write to the bus could otherwise make the engine scan its own disk and publish
    what it finds. Only registry references (node daemons are registries too) are accepted; the
    path is never looked at, so the answer says nothing about what exists there.
    """
    ref = event.image_ref.strip()
    transport, sep, _ = ref.partition(":")
    if not sep or transport not in LOCAL_TRANSPORTS:
        return None
    return ScanFailed(
        scan_id=event.scan_id,
        digest=event.digest,
        image_ref=event.image_ref,
        error=f"{event.image_ref}: refused: the engine scans only registry references from the bus, "
        f"not local {transport}: targets",
        failed_at=utcnow(),
    )


def make_engine_handler(deps: EngineDeps) -> Handler:  # long: one request's path, from routing to the outcome
    """The handler for ``assay.scan-requests.v1``: idempotent on the digest."""

    async def handle(event: Event) -> Sequence[Outgoing]:
        if not isinstance(event, ScanRequested):
            return []
        if not serves(deps.settings.engine.site, event.sites):
            return []  # another site's engines scan it (registry <-> cluster links)
        if refused := local_target_refusal(event):
            log.warning("engine: %s", refused.error)
            return [Outgoing(Topics.DETECTIONS, event.digest, refused)]
        started = time.monotonic()
        log.info("engine: scanning %s (scan %s)", event.image_ref, event.scan_id)
        if deps.on_start is not None:
            await deps.on_start(event.digest, event.scan_id)
        limit = max(0, deps.settings.max_image_size_mb) << 20

        def too_large(size: int) -> list[Outgoing]:
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

        settings, content, version = deps.content_now()
        pods = await deps.pod_pull_secrets(event)
        request = IsolatedRequest(
            target=event.image_ref,
            settings=settings,
            content=content is not None,
            max_image_bytes=limit,
            registry_credentials=True,  # a child builds ECR tokens and host overrides as ``tools`` has them
            pull_secrets=pods.secrets,
        )
        tools = AnalysisTools(deps.catalogers, content, deps.registry_client_factory)
        try:
            outcome = await scan_image(
                request,
                isolate=deps.isolate,  # a child process per image, under the scan budget (engine/isolate.py)
                advisory_db=deps.advisory_db,
                scan_id=event.scan_id,
                environments=event.environments,
                version=version,
                tools=tools,
            )
        except IMAGE_ERRORS as exc:  # the image's fault; anything else (advisory DB, store) stops the worker
            log.warning("engine: scan of %s failed: %s", event.image_ref, exc)
            return [Outgoing(Topics.DETECTIONS, event.digest, _failed(event, exc, pods.problems))]
        if isinstance(outcome, int):
            return too_large(outcome)
        if content is not None and (notes := content.notes()):  # e.g. no threat feeds loaded
            outcome = msgspec.structs.replace(outcome, notes=[*outcome.notes, *notes])
        _log_scanned(event.image_ref, started, outcome)
        return [Outgoing(Topics.DETECTIONS, event.digest, outcome)]

    return handle


def _failed(event: ScanRequested, exc: Exception, problems: Sequence[str] = ()) -> ScanFailed:
    # a pull secret that could not be read is often why the registry refused: say so too
    return ScanFailed(
        scan_id=event.scan_id,
        digest=event.digest,
        image_ref=event.image_ref,
        error="; ".join([str(exc), *problems]),
        failed_at=utcnow(),
    )


def _log_scanned(image_ref: str, started: float, completed: ScanCompleted) -> None:
    log.info(
        "engine: scanned %s in %.1fs: %d packages, %d matches, %d detections, %d unknowns",
        image_ref,
        time.monotonic() - started,
        len(completed.packages),
        len(completed.matches),
        len(completed.detections),
        len(completed.unknowns),
    )
