"""What one cluster runs: the sightings of every Running pod, and the diff a change implies.

The watcher feeds it the new sightings of one pod at a time (empty when the pod stopped running or
went away); it answers which sightings are new to the cluster (publish ``ImageDiscovered``) and which
images no Running pod uses any more (publish ``ImageRemoved``). Counting per image, not per pod,
keeps a Deployment with fifty replicas at one discovery and one removal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import msgspec

from services.inventory.kubernetes.pods import ImageKey, Sighting

__all__ = ["ClusterState", "Diff"]


class Diff(msgspec.Struct, frozen=True):
    """What one pod's change means for the cluster."""

    discovered: list[Sighting]  # first sighting of (image, tag, workload) in the cluster
    removed: list[ImageKey]  # no Running pod uses the image any more


class ClusterState:
    """Sightings by pod uid, with reference counts per sighting and per image."""

    def __init__(self) -> None:
        self._pods: dict[str, tuple[str, frozenset[Sighting]]] = {}  # uid -> (namespace, sightings)
        self._sightings: Counter[Sighting] = Counter()
        self._images: Counter[ImageKey] = Counter()

    def update(self, uid: str, namespace: str, sightings: Iterable[Sighting]) -> Diff:
        """Replace what pod ``uid`` runs; an empty ``sightings`` forgets the pod."""
        new = frozenset(sightings)
        _, old = self._pods.pop(uid, ("", frozenset()))
        if new:
            self._pods[uid] = (namespace, new)
        old_images = {s.image for s in old}
        new_images = {s.image for s in new}
        discovered: list[Sighting] = []
        removed: list[ImageKey] = []
        for s in sorted(new - old, key=_order):
            self._sightings[s] += 1
            if self._sightings[s] == 1:
                discovered.append(s)
        for s in old - new:
            self._sightings[s] -= 1
            if self._sightings[s] <= 0:
                del self._sightings[s]
        for image in new_images - old_images:
            self._images[image] += 1
        for image in sorted(old_images - new_images, key=lambda k: (k.repository, k.digest)):
            self._images[image] -= 1
            if self._images[image] <= 0:
                del self._images[image]
                removed.append(image)
        return Diff(discovered=discovered, removed=removed)

    def pods(self, namespace: str | None = None) -> list[str]:
        """The uids of the Running pods known, all or in one namespace."""
        return [uid for uid, (ns, _) in self._pods.items() if namespace is None or ns == namespace]

    def images(self) -> set[ImageKey]:
        """Every image some known Running pod uses."""
        return set(self._images)


def _order(s: Sighting) -> tuple[str, str, str, str, str]:
    return (s.image.repository, s.image.digest, s.tag, s.workload.kind, s.workload.name)
