"""Publish only what changed between two passes of a polling source (issue 19: crawl deltas).

A pass is everything a source saw (``Pass.events``) and where it saw everything: the environments
it listed in full, less the repositories it could not (a tag list that failed, a tag that did not
resolve). ``Deltas.changes`` compares a pass with the previous one and answers:

- an ``ImageDiscovered`` for every sighting that is new or changed (a tag that moved to another
  digest, a new workload, a new pod count), and every sighting on a full pass (``full=True``: the
  first pass after start, and then every ``full_interval_s``, which refreshes ``last_seen`` and lets
  dedupe rescan after an analyzer change);
- an ``ImageRemoved`` for every (environment, repository, digest) one of whose sightings is gone
  (a deleted tag, a stopped task) where the pass was complete, followed by the sightings of that
  image still present: the store unlinks the whole (environment, repository, digest), and they link
  the rest again. Nothing is removed where the pass was incomplete, so an outage never reads as
  "every image went away".
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from schemas.events import ImageDiscovered, ImageRemoved, InventoryEvent

__all__ = ["Deltas", "Pass", "sighting_key"]

# what identifies a sighting: where it was seen, under which name, by which workload and container
_Key = tuple[str, str, str, str, str, str, str, str]
_Link = tuple[str, str, str]  # (environment, repository, digest): what the store links and unlinks


class Pass(msgspec.Struct, frozen=True, kw_only=True):
    """One pass of a source: its sightings, the environments listed in full, the repositories not."""

    events: list[ImageDiscovered]
    environments: frozenset[str] = frozenset()
    incomplete: frozenset[tuple[str, str]] = frozenset()  # (environment, repository) not fully listed

    def complete(self, environment: str, repository: str) -> bool:
        """Whether an absence from this pass means the image is gone."""
        return environment in self.environments and (environment, repository) not in self.incomplete


def sighting_key(e: ImageDiscovered) -> _Key:
    """What identifies a sighting across passes (a stored crawl is keyed by it too)."""
    return (
        e.environment,
        e.registry,
        e.repository,
        e.tag,
        e.namespace,
        e.workload_kind,
        e.workload,
        e.container,
    )


def _link(e: ImageDiscovered) -> _Link:
    return (e.environment, e.repository, e.digest)


def _same(a: ImageDiscovered, b: ImageDiscovered) -> bool:
    """Equal apart from when they were seen."""
    return msgspec.structs.replace(a, discovered_at="") == msgspec.structs.replace(b, discovered_at="")


class Deltas:
    """The sightings last published by one source, to answer what the next pass changes."""

    def __init__(self) -> None:
        self._known: dict[_Key, ImageDiscovered] = {}

    def known(self) -> list[ImageDiscovered]:
        """The sightings last published (what ``restore`` takes back after a restart)."""
        return list(self._known.values())

    def restore(self, sightings: Iterable[ImageDiscovered]) -> None:
        """Start from a stored previous pass, so the next ``changes`` diffs against it."""
        self._known = {sighting_key(e): e for e in sightings}

    def changes(self, found: Pass, *, full: bool = False, now: str = "") -> list[InventoryEvent]:
        """The events that bring the consumers from the previous pass to ``found``; remembers it."""
        current: dict[_Key, ImageDiscovered] = {sighting_key(e): e for e in found.events}
        kept = {
            k: old
            for k, old in self._known.items()
            if k not in current and not found.complete(old.environment, old.repository)
        }
        lost = {
            _link(old): old
            for k, old in self._known.items()
            if k not in kept and (k not in current or current[k].digest != old.digest)
        }
        out: list[InventoryEvent] = []
        relinked: set[_Key] = set()
        for link, old in sorted(lost.items()):
            out.append(
                ImageRemoved(
                    environment=old.environment,
                    registry=old.registry,
                    repository=old.repository,
                    digest=old.digest,
                    removed_at=now,
                )
            )
            for k, e in _sorted(current.items()):
                if _link(e) == link:
                    out.append(e)
                    relinked.add(k)
            for k, e in _sorted(kept.items()):  # still there as far as we know: link them again too
                if _link(e) == link:
                    out.append(e)
                    relinked.add(k)
        for k, e in _sorted(current.items()):
            if k not in relinked and (full or k not in self._known or not _same(self._known[k], e)):
                out.append(e)
        self._known = {**kept, **current}
        return out


def _sorted(items: Iterable[tuple[_Key, ImageDiscovered]]) -> list[tuple[_Key, ImageDiscovered]]:
    return sorted(items, key=lambda kv: (kv[0], kv[1].digest))
