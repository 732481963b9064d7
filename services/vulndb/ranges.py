"""OSV affected-range evaluation, pure (https://ossf.github.io/osv-schema/#evaluation).

A version is affected by an advisory when one of its ``affected[]`` entries (for the
package) lists it in ``versions`` or one of the entry's ranges contains it:

* ``ECOSYSTEM`` ranges order versions with the ecosystem's own scheme; ``SEMVER``
  ranges always use SemVer 2 precedence, whatever the ecosystem;
* within a range, the events are replayed in version order (``introduced: "0"`` first):
  reaching an ``introduced`` (``v >= introduced``) makes ``v`` vulnerable, reaching a
  ``fixed`` (``v >= fixed``) or passing a ``last_affected`` (``v > last_affected``) makes
  it not; on a tie the closing event wins. The events may come in any order: the
  replay only needs the greatest ``introduced``, ``fixed`` and ``last_affected`` that
  ``v`` has reached, so nothing is sorted;
* ``limit`` events cap the range: ``v`` must also be below one of them (``"*"`` is
  no cap);
* ``GIT`` ranges name commits, which need the repository's history: they are ignored,
  with a note when an entry has nothing else to go by. Unknown range types likewise.

The fixed version reported is the smallest ``fixed`` event above ``v`` that is itself
not affected by any entry (upgrading to it leaves every range), or ``""`` when there is
none (no fix yet, or only ``last_affected`` / ``versions`` data).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cmp_to_key
from typing import NamedTuple, Protocol

from services.vulndb import osv
from services.vulndb.versions import semver_compare
from services.vulndb.versions.base import Compare, InvalidVersion

__all__ = ["AffectedEntry", "Verdict", "affected", "evaluate", "in_range"]

_ZERO = "0"


class AffectedEntry(Protocol):
    """What range evaluation needs from an OSV ``affected[]`` entry."""

    @property
    def ranges(self) -> Sequence[osv.Range]: ...

    @property
    def versions(self) -> Sequence[str]: ...


class Verdict(NamedTuple):
    """Whether a version is affected, the version to upgrade to, and what could not be evaluated."""

    affected: bool
    fixed: str = ""
    notes: tuple[str, ...] = ()


def _highest(current: str | None, candidate: str, compare: Compare) -> str:
    if current is None or current == _ZERO:
        return candidate
    if candidate == _ZERO:
        return current
    return candidate if compare(candidate, current) > 0 else current


def _opens_after(introduced: str, closing: str, compare: Compare) -> bool:
    """Whether the ``introduced`` event comes strictly after a closing event in version order."""
    if introduced == _ZERO:
        return False
    return compare(introduced, closing) > 0


def in_range(version: str, events: Iterable[osv.Event], compare: Compare) -> bool:
    """Whether ``version`` falls in one range's timeline (events in any order).

    Raises ``InvalidVersion`` if ``version`` or an event's version cannot be ordered.
    """
    introduced: str | None = None
    fixed: str | None = None
    last_affected: str | None = None
    limits: list[str] = []
    for event in events:
        if event.introduced is not None:
            if event.introduced == _ZERO or compare(version, event.introduced) >= 0:
                introduced = _highest(introduced, event.introduced, compare)
        elif event.fixed is not None:
            if compare(version, event.fixed) >= 0:
                fixed = _highest(fixed, event.fixed, compare)
        elif event.last_affected is not None:
            if compare(version, event.last_affected) > 0:
                last_affected = _highest(last_affected, event.last_affected, compare)
        elif event.limit is not None:
            limits.append(event.limit)
    if introduced is None:
        return False
    for closing in (fixed, last_affected):
        if closing is not None and not _opens_after(introduced, closing, compare):
            return False
    if limits:
        return any(limit == "*" or compare(version, limit) < 0 for limit in limits)
    return True


def _range_compare(rng: osv.Range, compare: Compare) -> Compare | None:
    if rng.type == "ECOSYSTEM":
        return compare
    if rng.type == "SEMVER":
        return semver_compare
    return None


def _skipped_note(entry: AffectedEntry) -> str | None:
    """A note for an entry whose ranges are all of types Assay cannot evaluate, if it has no list."""
    kinds = sorted({r.type for r in entry.ranges if r.type not in ("ECOSYSTEM", "SEMVER")})
    evaluable = any(r.type in ("ECOSYSTEM", "SEMVER") for r in entry.ranges)
    if not kinds or evaluable or entry.versions:
        return None
    if kinds == ["GIT"]:
        return "GIT ranges not evaluated: they name commits, which need the repository history"
    return f"range types {', '.join(kinds)} not evaluated"


def _hit(version: str, entries: Sequence[AffectedEntry], compare: Compare, notes: list[str] | None) -> bool:
    """Whether any entry affects ``version``; errors raise when ``notes`` is None, else become notes."""
    for entry in entries:
        if version in entry.versions:
            return True
        for rng in entry.ranges:
            cmp = _range_compare(rng, compare)
            if cmp is None:
                continue
            try:
                if in_range(version, rng.events, cmp):
                    return True
            except InvalidVersion as exc:
                if notes is None:
                    raise
                notes.append(f"{rng.type} range not evaluated: {exc}")
    return False


def _first_fix(version: str, entries: Sequence[AffectedEntry], compare: Compare) -> str:
    candidates: dict[str, Compare] = {}
    for entry in entries:
        for rng in entry.ranges:
            cmp = _range_compare(rng, compare)
            if cmp is None:
                continue
            for event in rng.events:
                if event.fixed is None or event.fixed in candidates:
                    continue
                try:
                    if cmp(event.fixed, version) > 0:
                        candidates[event.fixed] = cmp
                except InvalidVersion:
                    continue

    def order(a: str, b: str) -> int:
        return candidates[a](a, b)

    for fixed in sorted(candidates, key=cmp_to_key(order)):
        try:
            if not _hit(fixed, entries, compare, []):
                return fixed
        except InvalidVersion:
            continue
    return ""


def evaluate(version: str, entries: Sequence[AffectedEntry], compare: Compare) -> Verdict:
    """Evaluate ``version`` against all of an advisory's ``affected[]`` entries for one package.

    ``compare`` orders the ecosystem's versions (``versions.comparator(ecosystem)``). A
    range whose events cannot be ordered is skipped with a note, so one bad range does
    not hide the others. An installed ``version`` the scheme rejects raises
    ``InvalidVersion``, unless an entry lists it verbatim in ``versions``.
    """
    notes: list[str] = []
    for entry in entries:
        note = _skipped_note(entry)
        if note is not None:
            notes.append(note)
    try:
        compare(version, version)
    except InvalidVersion as exc:
        # OSV's versions lists hold exact strings, so even a version the scheme rejects
        # (a PyPI legacy version, say) can be listed; the ranges cannot say anything.
        if any(version in entry.versions for entry in entries):
            return Verdict(True, "", (*dict.fromkeys(notes), f"ranges not evaluated: {exc}"))
        raise
    if not _hit(version, entries, compare, notes):
        return Verdict(False, "", tuple(dict.fromkeys(notes)))
    return Verdict(True, _first_fix(version, entries, compare), tuple(dict.fromkeys(notes)))


def affected(version: str, entry: AffectedEntry, compare: Compare) -> tuple[bool, str]:
    """Whether ``version`` is affected by one ``entry``, and the fixed version to report.

    The per-entry form of ``evaluate``: ``compare`` orders the entry's ecosystem
    (``SEMVER`` ranges use SemVer 2 regardless). Raises ``InvalidVersion`` when a version
    in play cannot be ordered.
    """
    entries = (entry,)
    if not _hit(version, entries, compare, None):
        return False, ""
    return True, _first_fix(version, entries, compare)
