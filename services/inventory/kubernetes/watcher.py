"""List, then watch, the pods of one cluster, and publish what their images' presence changes.

The loop is the one client-go's reflector runs: list (in ``limit`` pages) to learn the state and a
resourceVersion, then watch from that version with bookmarks. A watch that ends (server timeout,
dropped connection) resumes from the last version seen; a 410 Gone (HTTP or an ``ERROR`` event)
means the version is too old, so the watcher lists again and diffs against what it knew, which
publishes every pod added or deleted in the gap. Connection failures back off exponentially with
full jitter. Every ``resync_interval_s`` the watcher lists and diffs anyway.

Every change goes through ``ClusterState``: an ``ImageDiscovered`` for each (image, tag, workload,
container) whose count of Running pods changed, carrying that ``pod_count``; an ``ImageRemoved``
when the last Running pod using an image is gone (see ``state`` for a sighting that goes while the
image still runs elsewhere). A watch event publishes its own change; a re-list publishes once, at
its end, so a Deployment of fifty replicas is one sighting with ``pod_count`` 50.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Mapping
from typing import Any

from schemas.events import ImageDiscovered, ImageRemoved
from services.common.clock import utcnow
from services.common.inventory import Publisher
from services.inventory.kubernetes.owners import OwnerResolver
from services.inventory.kubernetes.pods import (
    Sighting,
    Workload,
    is_running,
    pod_images,
    pod_uid,
    resource_version,
    sightings,
)
from services.inventory.kubernetes.source import KubeError, PodSource, WatchExpired
from services.inventory.kubernetes.state import ClusterState
from services.inventory.settings import ClusterConfig

__all__ = ["Backoff", "ClusterWatcher"]

log = logging.getLogger(__name__)


class Backoff:
    """Exponential backoff with full jitter: a delay drawn from [0, min(max, initial * 2**n)]."""

    def __init__(self, initial_s: float, max_s: float, rng: random.Random | None = None) -> None:
        self._initial = initial_s
        self._max = max_s
        self._failures = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        ceiling = min(self._max, self._initial * (2**self._failures))
        self._failures += 1
        return self._rng.uniform(0, ceiling)

    def reset(self) -> None:
        self._failures = 0


class ClusterWatcher:
    """Watches one cluster (all its namespaces, or the configured ones) until cancelled."""

    def __init__(self, cluster: ClusterConfig, source: PodSource, publish: Publisher) -> None:
        self.cluster = cluster
        self.environment = f"cluster:{cluster.name}"
        self._source = source
        self._publisher = publish
        self._owners = OwnerResolver(source, lookups=cluster.owner_lookups)
        self._state = ClusterState()
        self.resource_versions: dict[str, str] = {}  # namespace ("" for all) -> last version seen
        self.relists = 0  # lists done, for the log and the tests

    async def run(self) -> None:
        """Watch every configured scope concurrently; returns only when cancelled."""
        scopes = list(self.cluster.namespaces) or [""]
        async with asyncio.TaskGroup() as group:
            for namespace in scopes:
                group.create_task(self._run_scope(namespace))

    async def _run_scope(self, namespace: str) -> None:
        backoff = Backoff(self.cluster.backoff_initial_s, self.cluster.backoff_max_s)
        scope = namespace or "all namespaces"
        need_list = True
        deadline = 0.0
        while True:
            try:
                if need_list:
                    self.resource_versions[namespace] = await self._relist(namespace)
                    deadline = time.monotonic() + self.cluster.resync_interval_s
                    need_list = False
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    need_list = True  # periodic full resync
                    continue
                await self._watch(namespace, max(1, int(remaining)), backoff)
            except WatchExpired as exc:
                log.info("inventory: %s %s: %s; listing again", self.environment, scope, exc)
                need_list = True
            except KubeError as exc:
                delay = backoff.next_delay()
                log.warning("inventory: %s %s: %s; retrying in %.1fs", self.environment, scope, exc, delay)
                await asyncio.sleep(delay)

    async def _relist(self, namespace: str) -> str:
        """List every pod in ``namespace`` page by page and diff against the known state."""
        pods: list[Mapping[str, Any]] = []
        token = ""
        version = ""
        while True:
            page = await self._source.list_pods(namespace, limit=self.cluster.page_size, continue_token=token)
            items = page.get("items")
            pods.extend(p for p in (items if isinstance(items, list) else []) if isinstance(p, Mapping))
            meta = page.get("metadata") or {}
            version = version or str(meta.get("resourceVersion") or "")
            token = str(meta.get("continue") or "")
            if not token:
                break
        self.relists += 1
        listed = {pod_uid(p) for p in pods}
        for uid in self._state.pods(namespace or None):
            if uid not in listed:
                self._state.update(uid, namespace, [])
        for pod in pods:
            await self._apply(pod)
        await self._publish()
        log.info("inventory: %s: listed %d pods at version %s", self.environment, len(pods), version)
        return version

    async def _watch(self, namespace: str, timeout_s: int, backoff: Backoff) -> None:
        """Follow one watch stream to its end, keeping ``resource_versions`` current."""
        stream = self._source.watch_pods(
            namespace, resource_version=self.resource_versions[namespace], timeout_s=timeout_s
        )
        async for event in stream:
            kind = event.get("type")
            obj = event.get("object")
            obj = obj if isinstance(obj, Mapping) else {}
            if kind == "ERROR":
                message = f"watch error {obj.get('code')} {obj.get('reason', '')}: {obj.get('message', '')}"
                if obj.get("code") == 410:
                    raise WatchExpired(message)
                raise KubeError(message, status=int(obj.get("code") or 0) or None)
            if kind in ("ADDED", "MODIFIED"):
                await self._apply(obj)
                await self._publish()
            elif kind == "DELETED":
                self._state.update(pod_uid(obj), _namespace(obj), [])
                await self._publish()
            elif not isinstance(kind, str) or not obj:
                raise KubeError(f"not a watch event: {str(event)[:200]}")
            elif kind != "BOOKMARK":
                log.warning("inventory: %s: unknown watch event type %r", self.environment, kind)
                continue
            version = resource_version(obj)
            if version:
                self.resource_versions[namespace] = version
            backoff.reset()

    async def withdraw(self) -> None:
        """Publish the removal of every image known to run (the environment itself was removed)."""
        for uid in self._state.pods():
            self._state.update(uid, "", [])
        await self._publish()

    async def _apply(self, pod: Mapping[str, Any]) -> None:
        """Take a pod's current state: its sightings while Running, nothing otherwise."""
        found: list[Sighting] = []
        if is_running(pod):
            workload: Workload = await self._owners.workload(pod)
            found = sightings(pod, workload)
            for problem in pod_images(pod).problems:
                log.info("inventory: %s: %s", self.environment, problem)
        self._state.update(pod_uid(pod), _namespace(pod), found)

    async def _publish(self) -> None:
        """Publish what changed since the last call: removals first, then sightings with pod counts."""
        diff = self._state.take()
        now = utcnow()
        for key in diff.removed:
            await self._publisher.publish(
                ImageRemoved(
                    environment=self.environment,
                    registry=key.registry,
                    repository=key.repository,
                    digest=key.digest,
                    removed_at=now,
                )
            )
        for s, count in diff.discovered:
            await self._publisher.publish(
                ImageDiscovered(
                    environment=self.environment,
                    registry=s.image.registry,
                    repository=s.image.repository,
                    digest=s.image.digest,
                    tag=s.tag,
                    discovered_at=now,
                    namespace=s.workload.namespace,
                    workload_kind=s.workload.kind,
                    workload=s.workload.name,
                    container=s.container,
                    pod_count=count,
                    ou=self.cluster.ou,
                    pull_secrets=list(s.pull_secrets),
                )
            )


def _namespace(pod: Mapping[str, Any]) -> str:
    meta = pod.get("metadata") or {}
    return str(meta.get("namespace", ""))
