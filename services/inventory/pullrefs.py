"""Where the engines learn which pull secrets an image needs: ``pull_secret_refs`` (migration 0013).

A cluster sighting carries the pod's ``imagePullSecrets`` as "namespace/name" references
(``ImageDiscovered.pull_secrets``). ``RecordingPublisher`` records them, per environment, repository
and digest, as each event leaves: a removal forgets that image's references, and the sightings
that follow a removal (those still running) record theirs again. Only names are stored: an
engine reads the secrets themselves from the cluster when it pulls
(``services/oci/credentials/kube.py``), so no secret ever reaches the bus or the database.
"""

from __future__ import annotations

import logging
from typing import Any

from schemas.events import ImageDiscovered, ImageRemoved
from services.common.errors import StoreError
from services.common.inventory import InventoryEvent, Publisher
from services.common.store._errors import translated

__all__ = ["PullSecretRefs", "RecordingPublisher"]

log = logging.getLogger(__name__)

_RECORD = """
INSERT INTO pull_secret_refs AS p (environment, repository, digest, namespace, name, position)
SELECT $1, $2, $3, split_part(u.ref, '/', 1), split_part(u.ref, '/', 2), u.position - 1
FROM unnest($4::text[]) WITH ORDINALITY AS u(ref, position)
ON CONFLICT (environment, repository, digest, namespace, name) DO UPDATE SET
    position = LEAST(p.position, EXCLUDED.position), seen_at = now()
"""


class PullSecretRefs:
    """The statements, on an asyncpg pool."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def record(self, event: ImageDiscovered) -> None:
        """Remember the secrets ``event``'s pod names for its image (nothing when it names none)."""
        refs = [r for r in event.pull_secrets if r.count("/") == 1 and all(r.split("/"))]
        if not refs:
            return
        with translated(f"record the pull secrets of {event.repository}@{event.digest}"):
            await self._pool.execute(_RECORD, event.environment, event.repository, event.digest, refs)

    async def forget(self, event: ImageRemoved) -> None:
        """Forget the references of an image no longer running under that repository."""
        with translated(f"forget the pull secrets of {event.repository}@{event.digest}"):
            await self._pool.execute(
                "DELETE FROM pull_secret_refs WHERE environment = $1 AND repository = $2 AND digest = $3",
                event.environment,
                event.repository,
                event.digest,
            )


class RecordingPublisher:
    """A ``Publisher`` that records pull-secret references, then hands the event on."""

    def __init__(self, inner: Publisher, refs: PullSecretRefs) -> None:
        self._inner = inner
        self._refs = refs

    async def publish(self, event: InventoryEvent) -> None:
        # recorded first: an engine may pull as soon as dedupe has the sighting
        try:
            if isinstance(event, ImageRemoved):
                await self._refs.forget(event)
            elif event.pull_secrets:
                await self._refs.record(event)
        except StoreError as exc:  # the sighting still counts; the engine pulls with its own chain
            log.warning("inventory: %s", exc)
        await self._inner.publish(event)
