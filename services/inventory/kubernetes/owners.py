"""The workload that owns a pod, following ``ownerReferences`` one step further where Kubernetes nests.

A Deployment's pods are owned by a ReplicaSet, and a CronJob's by a Job; the ReplicaSet or Job is
read once through the API and its controller cached (a controller reference never changes). When
the read fails (no RBAC ``get``, a network error), the intermediate owner is reported as it is and
not cached, so a later pod can still resolve it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Final

from services.inventory.kubernetes.pods import Workload, controller_of
from services.inventory.kubernetes.source import KubeError, PodSource

__all__ = ["OwnerResolver"]

log = logging.getLogger(__name__)

# owner kind -> the kind that, when it controls the owner, is the workload users know
_NESTED: Final = {"ReplicaSet": "Deployment", "Job": "CronJob"}


class OwnerResolver:
    """Resolves and caches (up to ``max_entries``) intermediate owners of one cluster."""

    def __init__(self, source: PodSource, *, max_entries: int = 4096) -> None:
        self._source = source
        self._max = max_entries
        self._cache: OrderedDict[tuple[str, str, str], Workload] = OrderedDict()

    async def workload(self, pod: Mapping[str, Any]) -> Workload:
        """The pod's workload: its controller, lifted to Deployment or CronJob where one owns that."""
        meta = pod.get("metadata") or {}
        namespace = str(meta.get("namespace", ""))
        ref = controller_of(pod)
        if ref is None:
            return Workload(kind="Pod", namespace=namespace, name=str(meta.get("name", "")))
        direct = Workload(kind=ref.kind, namespace=namespace, name=ref.name)
        parent_kind = _NESTED.get(ref.kind)
        if parent_kind is None:
            return direct
        key = (ref.kind, namespace, ref.name)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        try:
            owner = await self._source.get_owner(ref.kind, namespace, ref.name)
        except KubeError as exc:
            log.warning("inventory: %s; reporting %s %s/%s itself", exc, ref.kind, namespace, ref.name)
            return direct
        resolved = direct
        parent = controller_of(owner) if owner is not None else None
        if parent is not None and parent.kind == parent_kind:
            resolved = Workload(kind=parent.kind, namespace=namespace, name=parent.name)
        self._cache[key] = resolved
        if len(self._cache) > self._max:
            self._cache.popitem(last=False)
        return resolved
