"""The dedupe service's core: each image digest is requested for scanning once.

The claim is one atomic insert in PostgreSQL, so several dedupe replicas and restarts
agree on who saw a digest first. Every sighting still records the image's environment,
and an ``ImageRemoved`` (a cluster's last pod using the digest went away) unlinks it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from schemas.events import Event, ImageDiscovered, ImageRemoved, ScanRequested
from schemas.topics import Topics
from services.common.runner import Handler, Outgoing
from services.common.store.postgres import Store
from services.engine.core import ANALYZER_VERSION, utcnow


def scan_id_for(digest: str, analyzer_version: str = ANALYZER_VERSION) -> str:
    """A deterministic scan id, so a redelivered request names the same scan."""
    return hashlib.sha256(f"{digest}|{analyzer_version}".encode()).hexdigest()[:24]


def make_dedupe_handler(store: Store) -> Handler:
    """The handler for ``assay.inventory.v1``."""

    async def handle(event: Event) -> Sequence[Outgoing]:
        if isinstance(event, ImageRemoved):
            # the image left an environment: unlink it there; its scan and findings stay
            await store.unlink_image(
                digest=event.digest, environment=event.environment, repository=event.repository
            )
            return []
        if not isinstance(event, ImageDiscovered):
            return []
        image_ref = f"{event.registry}/{event.repository}@{event.digest}"
        first = await store.claim_image(
            digest=event.digest,
            image_ref=image_ref,
            environment=event.environment,
            repository=event.repository,
            tag=event.tag,
        )
        if not first:
            return []
        request = ScanRequested(
            scan_id=scan_id_for(event.digest),
            digest=event.digest,
            image_ref=image_ref,
            environments=[event.environment],
            requested_at=utcnow(),
        )
        return [Outgoing(Topics.SCAN_REQUESTS, event.digest, request)]

    return handle
