"""Kubernetes inventory: the images of every Running pod of the configured clusters.

``pods`` holds the pure Pod-to-images functions, ``state`` the per-cluster reference counts,
``owner_names`` and ``owners`` the Deployment/CronJob behind a pod (by name, or by API lookup),
``source`` the API seam (kubernetes_asyncio) and ``watcher`` the list-then-watch loop.
``watch_cluster`` is what ``assay service inventory`` runs per cluster.
"""

from __future__ import annotations

from services.common.config import ClusterConfig
from services.inventory.kubernetes.pods import discovered_events, parse_image_id, pod_images
from services.inventory.kubernetes.source import KubeError, KubeSource, PodSource, WatchExpired, open_source
from services.inventory.kubernetes.watcher import ClusterWatcher, Emit

__all__ = [
    "ClusterWatcher",
    "Emit",
    "KubeError",
    "KubeSource",
    "PodSource",
    "WatchExpired",
    "discovered_events",
    "open_source",
    "parse_image_id",
    "pod_images",
    "watch_cluster",
]


async def watch_cluster(cluster: ClusterConfig, emit: Emit) -> None:
    """Connect to ``cluster`` and publish its image changes through ``emit`` until cancelled."""
    async with open_source(cluster) as source:
        await ClusterWatcher(cluster, source, emit).run()
