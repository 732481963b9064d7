"""OSV affected-range evaluation, pure (https://ossf.github.io/osv-schema/#evaluation).

A version is affected by an ``affected[]`` entry when it falls in any of its
``ECOSYSTEM`` or ``SEMVER`` ranges or is listed in ``versions``. Within a range the
events are sorted by version (``introduced: "0"`` first, ``limit: "*"`` last) and
replayed: reaching an ``introduced`` makes the version vulnerable, reaching a ``fixed``
(``v >= fixed``) or passing a ``last_affected`` (``v > last_affected``) makes it not;
``limit`` events cap the range (``v`` must be below one of them). ``GIT`` ranges need the
repository's history and are ignored, as are range types this module does not know.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cmp_to_key
from typing import Protocol

from services.vulndb import osv
from services.vulndb.versions import semver
from services.vulndb.versions.base import Compare


class AffectedEntry(Protocol):
    """What ``affected`` needs from an OSV ``affected[]`` entry."""

    @property
    def ranges(self) -> Sequence[osv.Range]: ...

    @property
    def versions(self) -> Sequence[str]: ...


def _value(event: osv.Event) -> str:
    for v in (event.introduced, event.fixed, event.last_affected, event.limit):
        if v is not None:
            return v
    return ""


def _sorted(events: Sequence[osv.Event], compare: Compare) -> list[osv.Event]:
    def order(a: osv.Event, b: osv.Event) -> int:
        va, vb = _value(a), _value(b)
        # "0" (introduced) precedes and "*" (limit) follows every version.
        ka = -1 if (a.introduced == "0") else (1 if a.limit == "*" else 0)
        kb = -1 if (b.introduced == "0") else (1 if b.limit == "*" else 0)
        if ka or kb:
            return ka - kb
        return compare(va, vb)

    return sorted(events, key=cmp_to_key(order))


def in_range(version: str, events: Sequence[osv.Event], compare: Compare) -> tuple[bool, str]:
    """Whether ``version`` falls in one range's timeline, and the lowest ``fixed`` above it.

    Raises ``InvalidVersion`` if ``version`` or an event's version cannot be ordered.
    """
    vulnerable = False
    limits: list[str] = []
    for event in _sorted(events, compare):
        if event.introduced is not None:
            if event.introduced == "0" or compare(version, event.introduced) >= 0:
                vulnerable = True
        elif event.fixed is not None:
            if compare(version, event.fixed) >= 0:
                vulnerable = False
        elif event.last_affected is not None:
            if compare(version, event.last_affected) > 0:
                vulnerable = False
        elif event.limit is not None:
            limits.append(event.limit)
    if vulnerable and limits:
        vulnerable = any(lim == "*" or compare(version, lim) < 0 for lim in limits)
    if not vulnerable:
        return False, ""
    above = [e.fixed for e in events if e.fixed is not None and compare(e.fixed, version) > 0]
    fixed = min(above, key=cmp_to_key(compare)) if above else ""
    return True, fixed


def affected(version: str, entry: AffectedEntry, compare: Compare) -> tuple[bool, str]:
    """Whether ``version`` is affected by ``entry``, and the fixed version to report.

    ``compare`` orders versions of the entry's ecosystem (used for ``ECOSYSTEM`` ranges);
    ``SEMVER`` ranges always use SemVer 2 precedence. The fixed version is the lowest
    ``fixed`` event above ``version`` in the first range that matched ("" when there is
    none, or when only the ``versions`` list matched). Raises ``InvalidVersion`` when a
    version in play cannot be ordered.
    """
    for rng in entry.ranges:
        if rng.type == "ECOSYSTEM":
            cmp = compare
        elif rng.type == "SEMVER":
            cmp = semver.compare
        else:
            continue
        hit, fixed = in_range(version, rng.events, cmp)
        if hit:
            return True, fixed
    if version in entry.versions:
        return True, ""
    return False, ""
