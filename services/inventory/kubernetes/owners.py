"""The workload that owns a pod, following ``ownerReferences`` one step further where Kubernetes nests.

A Deployment's pods are controlled by a ReplicaSet, and a CronJob's by a Job. By default the
Deployment or CronJob is derived from names (``owner_names``): RBAC then needs only ``list`` and
``watch`` on pods. With ``lookups`` on (``ClusterConfig.owner_lookups``, for operators who grant
``get`` on replicasets and jobs) the ReplicaSet or Job is read once through the API and its
controller cached (a controller reference never changes). When that read fails (no RBAC ``get``, a
network error) or the object is gone, the name-based answer is used and nothing is cached, so a
later pod can still resolve it through the API.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, Final

from services.inventory.kubernetes.owner_names import cronjob_from_job, deployment_from_replicaset
from services.inventory.kubernetes.pods import Workload, controller_of
from services.inventory.kubernetes.source import KubeError, PodSource

__all__ = ["OwnerResolver", "by_name"]

log = logging.getLogger(__name__)

# owner kind -> (the kind that, when it controls the owner, is the workload users know, name rule)
_NESTED: Final[dict[str, tuple[str, Callable[[Mapping[str, Any], str], str | None]]]] = {
    "ReplicaSet": ("Deployment", deployment_from_replicaset),
    "Job": ("CronJob", cronjob_from_job),
}


def by_name(pod: Mapping[str, Any]) -> Workload:
    """The pod's workload from names alone: no API call (see ``owner_names``)."""
    meta = pod.get("metadata") or {}
    namespace = str(meta.get("namespace", ""))
    ref = controller_of(pod)
    if ref is None:
        return Workload(kind="Pod", namespace=namespace, name=str(meta.get("name", "")))
    nested = _NESTED.get(ref.kind)
    parent = nested[1](pod, ref.name) if nested is not None else None
    if nested is not None and parent:
        return Workload(kind=nested[0], namespace=namespace, name=parent)
    return Workload(kind=ref.kind, namespace=namespace, name=ref.name)


class OwnerResolver:
    """Resolves a pod's workload; with ``lookups``, through the API, caching up to ``max_entries``."""

    def __init__(self, source: PodSource, *, lookups: bool = False, max_entries: int = 4096) -> None:
        self._source = source
        self._lookups = lookups
        self._max = max_entries
        self._cache: OrderedDict[tuple[str, str, str], Workload] = OrderedDict()

    async def workload(self, pod: Mapping[str, Any]) -> Workload:
        """The pod's workload: its controller, lifted to Deployment or CronJob where one owns that."""
        guess = by_name(pod)
        ref = controller_of(pod)
        if not self._lookups or ref is None or ref.kind not in _NESTED:
            return guess
        namespace = guess.namespace
        key = (ref.kind, namespace, ref.name)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        try:
            owner = await self._source.get_owner(ref.kind, namespace, ref.name)
        except KubeError as exc:
            log.warning(
                "inventory: %s; naming %s %s/%s's owner by its name", exc, ref.kind, namespace, ref.name
            )
            return guess
        if owner is None:  # deleted while its pods still run (orphaned, or being cleaned up)
            return guess
        resolved = Workload(kind=ref.kind, namespace=namespace, name=ref.name)
        parent = controller_of(owner)
        if parent is not None and parent.kind == _NESTED[ref.kind][0]:
            resolved = Workload(kind=parent.kind, namespace=namespace, name=parent.name)
        self._cache[key] = resolved
        if len(self._cache) > self._max:
            self._cache.popitem(last=False)
        return resolved
