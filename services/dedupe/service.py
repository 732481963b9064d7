"""The dedupe service's core: each image digest is requested for scanning once per analysis.

A consumer batch of sightings is claimed in one PostgreSQL statement (``store/claims.py``): it
links every sighting to its environment (with its organisational unit) and answers the digests
that need a ``ScanRequested``. The runner publishes those, then ``published`` records that the
broker has them, then the offsets are committed. A crash or publish failure in between leaves
the claim requested-but-unpublished, and the redelivered sighting publishes the same request
(same scan id) again; the sweep (``services/dedupe/sweep.py``) re-requests scans stuck past the
scan timeout.

Sightings that cannot be pulled (``scannable=False``: ECS Fargate tasks) are linked but never
requested; a sighting whose ``size_bytes`` is over ``max_image_size_mb`` marks the image
``too_large``. A cluster sighting's workload context (namespace, workload kind and name,
container, pod count) is kept beside the link (``services/dedupe/store/workloads.py``). An ``ImageRemoved``
unlinks the image from that environment and forgets its workloads there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from schemas.events import Event, ImageDiscovered, ImageRemoved, ScanRequested
from services.common.runner import Outgoing
from services.common.scan_requests import request_event, request_events
from services.common.store.postgres import Store
from services.dedupe.store import Claimed, Claims, Sighting, WorkloadSighting, WorkloadWrites, scan_id_for
from services.dedupe.version import CurrentVersion

__all__ = ["Dedupe", "DedupeConfig", "InvalidSighting", "request_event", "request_events", "scan_id_for"]

# The OCI digest grammar: algorithm ":" encoded
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")


class InvalidSighting(ValueError):
    """A well-formed event dedupe cannot act on (e.g. no valid digest): it is dead-lettered."""


@dataclass(frozen=True)
class DedupeConfig:
    """What dedupe decides with, from ``Settings`` at start-up."""

    max_image_bytes: int = 2048 << 20  # 0: no limit
    analysis_version: str = ""  # fixed (tests); "" = the one the engines recorded (``version.py``)


def _sighting(event: ImageDiscovered) -> Sighting:
    if not _DIGEST.match(event.digest):
        raise InvalidSighting(
            f"{event.environment}: {event.repository}: not a manifest digest: {event.digest!r}"
        )
    return Sighting(
        digest=event.digest,
        image_ref=f"{event.registry}/{event.repository}@{event.digest}",
        environment=event.environment,
        repository=event.repository,
        tag=event.tag,
        ou=event.ou,
        scannable=event.scannable,
        size_bytes=max(0, event.size_bytes),
    )


def _workload(event: ImageDiscovered) -> WorkloadSighting:
    return WorkloadSighting(
        digest=event.digest,
        environment=event.environment,
        namespace=event.namespace,
        workload_kind=event.workload_kind,
        workload=event.workload,
        container=event.container,
        repository=event.repository,
        pod_count=event.pod_count,
    )


class Dedupe:
    """The handlers for ``assay.inventory.v1``: ``handle_batch`` (the service), ``handle`` (one event)."""

    def __init__(
        self,
        store: Store,
        config: DedupeConfig,
        version: CurrentVersion | None = None,
        *,
        count_hits: Callable[[int], None] | None = None,
    ) -> None:
        self._store = store
        self._count_hits = count_hits  # sightings that needed no scan (a dedupe hit), per batch
        self._claims = Claims(store.pool)
        self._workloads = WorkloadWrites(store.pool)
        self._config = config
        self._version = version

    async def _analysis_version(self) -> str:
        if self._config.analysis_version:
            return self._config.analysis_version
        if self._version is None:
            raise ValueError("DedupeConfig.analysis_version is empty and no CurrentVersion was given")
        return await self._version.get()

    async def handle_batch(self, events: Sequence[Event]) -> list[Sequence[Outgoing] | Exception]:
        """One result per event: the scan requests it caused, or the error that dead-letters it.

        Runs of consecutive sightings are claimed in one statement; a removal is applied in its
        place in the batch, so a sighting and a removal of the same link keep their order.
        """
        results: list[Sequence[Outgoing] | Exception] = [[] for _ in events]
        run: list[tuple[int, Sighting]] = []
        workloads: list[WorkloadSighting] = []
        for index, event in enumerate(events):
            if isinstance(event, ImageDiscovered):
                try:
                    run.append((index, _sighting(event)))
                except InvalidSighting as exc:
                    results[index] = exc
                    continue
                if event.namespace and event.workload:
                    workloads.append(_workload(event))
            elif isinstance(event, ImageRemoved):
                await self._claim(run, results, workloads)
                run, workloads = [], []
                await self._store.unlink_image(
                    digest=event.digest, environment=event.environment, repository=event.repository
                )
                await self._workloads.remove(
                    digest=event.digest, environment=event.environment, repository=event.repository
                )
        await self._claim(run, results, workloads)
        return results

    async def _claim(
        self,
        run: list[tuple[int, Sighting]],
        results: list[Sequence[Outgoing] | Exception],
        workloads: Sequence[WorkloadSighting] = (),
    ) -> None:
        if not run:
            return
        claimed = await self._claims.claim(
            [s for _, s in run],
            analysis_version=await self._analysis_version(),
            max_image_bytes=self._config.max_image_bytes,
        )
        # each request goes out with the first event of the run that sighted its digest
        first: dict[str, int] = {}
        for index, sighting in run:
            first.setdefault(sighting.digest, index)
        for c, request in zip(claimed, await request_events(self._store, claimed), strict=True):
            results[first[c.digest]] = [request]
        if self._count_hits is not None:
            self._count_hits(len(run) - len(claimed))
        await self._workloads.record(workloads)  # after the claim: the images exist now

    async def handle(self, event: Event) -> Sequence[Outgoing]:
        """One event alone (raises ``InvalidSighting`` for a bad one)."""
        [result] = await self.handle_batch([event])
        if isinstance(result, Exception):
            raise result
        return result

    async def published(self, outgoing: Sequence[Outgoing]) -> None:
        """The broker acknowledged these: a later sighting must not request them again."""
        claimed = [
            Claimed(
                digest=o.event.digest,
                image_ref=o.event.image_ref,
                scan_id=o.event.scan_id,
                reason=o.event.reason,
            )
            for o in outgoing
            if isinstance(o.event, ScanRequested)
        ]
        await self._claims.mark_published(claimed)
