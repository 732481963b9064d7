"""What one cluster runs: the sightings of every Running pod, counted, and what changed since last told.

The watcher feeds it the sightings of one pod at a time (empty when the pod stopped running or went
away) and, after each watch event or after a whole re-list, ``take``s the changes to publish:

- an ``ImageDiscovered`` for every (image, tag, workload, container) whose pod count changed, with
  the new count (a Deployment of fifty replicas listed at start-up is one event, ``pod_count`` 50);
- an ``ImageRemoved`` for every image whose last sighting went away.

The store keeps one link per (environment, repository, digest) and removes all of it on
``ImageRemoved``. So when one sighting of an image goes (a workload stops using it, a tag changes)
while others still run, ``take`` answers the removal followed by every sighting still running: the
store drops the stale workload or tag and keeps the rest. Both are keyed by the digest, so they stay
in that order on one partition.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import msgspec

from services.inventory.kubernetes.pods import ImageKey, Sighting

__all__ = ["ClusterState", "Diff"]

_Link = tuple[str, str]  # (repository, digest): what the store links and unlinks as one


class Diff(msgspec.Struct, frozen=True):
    """What to publish, in this order: the removals, then the sightings with their pod counts."""

    removed: list[ImageKey]
    discovered: list[tuple[Sighting, int]]


class ClusterState:
    """Sightings by pod uid; Running pods per sighting, now and as last published."""

    def __init__(self) -> None:
        self._pods: dict[str, tuple[str, frozenset[Sighting]]] = {}  # uid -> (namespace, sightings)
        self._counts: defaultdict[_Link, Counter[Sighting]] = defaultdict(Counter)
        self._published: dict[_Link, dict[Sighting, int]] = {}
        self._dirty: set[_Link] = set()

    def update(self, uid: str, namespace: str, sightings: frozenset[Sighting] | list[Sighting]) -> None:
        """Replace what pod ``uid`` runs; an empty ``sightings`` forgets the pod."""
        new = frozenset(sightings)
        _, old = self._pods.pop(uid, ("", frozenset()))
        if new:
            self._pods[uid] = (namespace, new)
        for s in new - old:
            self._counts[_link(s)][s] += 1
            self._dirty.add(_link(s))
        for s in old - new:
            link = _link(s)
            counts = self._counts[link]
            counts[s] -= 1
            if counts[s] <= 0:
                del counts[s]
            if not counts:
                del self._counts[link]
            self._dirty.add(link)

    def take(self) -> Diff:
        """The changes since the last ``take`` (and mark them published)."""
        removed: list[ImageKey] = []
        discovered: list[tuple[Sighting, int]] = []
        for link in sorted(self._dirty):
            now = dict(self._counts.get(link, {}))
            before = self._published.pop(link, {})
            gone = [s for s in before if s not in now]
            if gone:
                removed.append(min(gone, key=_order).image)
            for s in sorted(now, key=_order):
                if gone or before.get(s) != now[s]:
                    discovered.append((s, now[s]))
            if now:
                self._published[link] = now
        self._dirty.clear()
        return Diff(removed=removed, discovered=discovered)

    def pods(self, namespace: str | None = None) -> list[str]:
        """The uids of the Running pods known, all or in one namespace."""
        return [uid for uid, (ns, _) in self._pods.items() if namespace is None or ns == namespace]


def _link(s: Sighting) -> _Link:
    return (s.image.repository, s.image.digest)


def _order(s: Sighting) -> tuple[str, ...]:
    w = s.workload
    return (
        s.image.registry,
        s.image.repository,
        s.image.digest,
        s.tag,
        w.namespace,
        w.kind,
        w.name,
        s.container,
    )
