"""Kubernetes inventory: the images of every Running pod of the configured clusters.

``pods`` holds the pure Pod-to-images functions, ``state`` the per-cluster pod counts,
``owner_names`` and ``owners`` the Deployment/CronJob behind a pod (by name, or by API lookup),
``source`` the API seam (kubernetes_asyncio) and ``watcher`` the list-then-watch loop.
``ClusterSource`` is the ``InventorySource`` ``assay service inventory`` runs per cluster.
"""

from __future__ import annotations

import asyncio

from services.common.inventory import Publisher, until_stopped
from services.inventory.kubernetes.pods import parse_image_id, pod_images, sightings
from services.inventory.kubernetes.source import KubeError, KubeSource, PodSource, WatchExpired, open_source
from services.inventory.kubernetes.watcher import ClusterWatcher
from services.inventory.settings import ClusterConfig

__all__ = [
    "ClusterSource",
    "ClusterWatcher",
    "KubeError",
    "KubeSource",
    "PodSource",
    "WatchExpired",
    "open_source",
    "parse_image_id",
    "pod_images",
    "sightings",
]


class ClusterSource:
    """``InventorySource`` for one cluster: connect (kubeconfig or in-cluster), then watch until stopped."""

    def __init__(self, cluster: ClusterConfig, kubeconfig_text: str = "") -> None:
        self.cluster = cluster
        self.name = f"cluster:{cluster.name}"
        self._kubeconfig_text = kubeconfig_text  # contents, for environments added at run time
        self._watcher: ClusterWatcher | None = None

    async def run(self, publish: Publisher, stop: asyncio.Event) -> None:
        """Watch until ``stop`` is set; ``ConfigError`` when the kubeconfig cannot be loaded."""
        async with open_source(self.cluster, self._kubeconfig_text) as source:
            self._watcher = ClusterWatcher(self.cluster, source, publish)
            await until_stopped(self._watcher.run(), stop)

    async def withdraw(self) -> None:
        """After ``run``: publish the removal of every image the cluster was seen running (for an
        environment that was removed; a restart or a shutdown withdraws nothing)."""
        if self._watcher is not None:
            await self._watcher.withdraw()
