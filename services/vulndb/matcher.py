"""Match installed packages against the advisory database.

Each package type has a resolver in ``RESOLVERS`` (``resolvers.py``) that says which OSV
ecosystems, package names and version to look up. OS packages are looked up by their
*source* package in their own distribution's records only; a language package whose files
an OS package installed (``owner``) is looked up as that OS package, in the distribution's
records, because the distribution patches its copy (a backported fix keeps the upstream
version number); when the owner is itself in the inventory its own findings already
cover the package, which is then not reported again. A RHEL-family package that its vendor
has no record of is looked up in a rebuild's records (``Query.fallbacks``), per package. A
version is affected when ``ranges.affected`` says so.

All advisories naming one vulnerability for one package (a GHSA, a PYSEC and a distro
record of the same CVE) become one ``VulnMatch`` keyed by its CVE, listing every id, with
the smallest fixed version above the installed one and the best severity; an RPM
distribution's erratum becomes one match per CVE it fixes (``errata.py``). Anything that
cannot be matched becomes a note (coverage gaps carry a marker, see ``coverage.py``),
never an exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cmp_to_key
from typing import Any, Final

import msgspec

from schemas.records import Distro, PackageRecord, VulnMatch
from schemas.vocabulary import FixState
from services.common.errors import VulnDBError
from services.vulndb import cvss_source, errata, ranges, severity
from services.vulndb.coverage import CoverageGap, no_advisories
from services.vulndb.db import Advisory, AffectedPackage, VulnDB
from services.vulndb.resolvers import RESOLVERS, Query, Resolver, owner_record
from services.vulndb.versions import Compare, InvalidVersion, comparator, ecosystem_base

__all__ = [
    "MAX_DETAILS",
    "RESOLVERS",
    "MatchResult",
    "Query",
    "Resolver",
    "fix_state",
    "match_packages",
    "merge_aliases",
    "preferred_id",
]

MAX_DETAILS: Final = 2000
_NAMES_SHOWN: Final = 10  # packages named in a stand-in note

FIXED: Final = "fixed"
NOT_FIXED: Final = "not-fixed"
WONT_FIX: Final = "wont-fix"

# Distro statuses meaning "vulnerable, and no fix is coming": Ubuntu's ``deferred``/``ignored``,
# Debian's tracker urgencies ``unimportant``/``end-of-life`` and its ``no-dsa``/``postponed`` notes.
_WONT_FIX_WORDS: Final = frozenset(
    {"ignored", "deferred", "wontfix", "wont-fix", "will-not-fix", "will not fix", "end-of-life",
     "unimportant", "no-dsa", "postponed", "not-fixed-will-not-fix"}
)  # fmt: skip


class MatchResult(msgspec.Struct, frozen=True):
    """The matches found, notes on what could not be matched, and the coverage gaps among them."""

    matches: list[VulnMatch]
    notes: list[str]
    gaps: list[CoverageGap] = []


def preferred_id(advisory: Advisory) -> str:
    """The CVE id of an advisory if it has one (id, then aliases, then upstream), else its id."""
    if advisory.id.startswith("CVE-"):
        return advisory.id
    for group in (advisory.aliases, advisory.upstream):
        cves = sorted(a for a in group if a.startswith("CVE-"))
        if cves:
            return cves[0]
    return advisory.id


def _words(obj: Mapping[str, Any] | None) -> Iterable[str]:
    if not obj:
        return
    for key in ("status", "urgency", "state", "fix_state"):
        value = obj.get(key)
        if isinstance(value, str):
            yield value.strip().lower()


def fix_state(advisory: Advisory, entry: AffectedPackage, fixed: str) -> FixState:
    """``fixed`` when a fixed version is known, ``wont-fix`` when the publisher says none will come."""
    if fixed:
        return FIXED
    for obj in (entry.ecosystem_specific, entry.database_specific, advisory.database_specific):
        if any(w in _WONT_FIX_WORDS for w in _words(obj)):
            return WONT_FIX
    return NOT_FIXED


def _listed_fix(version: str, entry: AffectedPackage, compare: Compare) -> str:
    """The lowest ``database_specific.fix_versions`` entry above ``version`` ("" when none).

    Records that list affected ``versions`` instead of ranges (RetireNet's NuGet advisories)
    name their fixes there.
    """
    listed = (entry.database_specific or {}).get("fix_versions")
    if not isinstance(listed, list):
        return ""
    above = []
    for candidate in listed:
        try:
            if isinstance(candidate, str) and compare(candidate, version) > 0:
                above.append(candidate)
        except InvalidVersion:
            continue
    return min(above, key=cmp_to_key(compare)) if above else ""


def _to_match(
    pkg: PackageRecord, ecosystem: str, advisory: Advisory, fixed: str, state: FixState
) -> VulnMatch:
    rated = severity.assess(advisory, ecosystem)
    return VulnMatch(
        vuln_id=preferred_id(advisory),
        package_name=pkg.name,
        package_version=pkg.version,
        package_purl=pkg.purl,
        advisory_ids=sorted({advisory.id, *advisory.aliases, *advisory.upstream}),
        ecosystem=ecosystem,
        fixed_version=fixed,
        fix_state=state,
        severity=rated.severity,
        cvss_score=rated.score,
        cvss_vector=rated.vector,
        severity_source=rated.source,
        summary=advisory.summary,
        details=advisory.details[:MAX_DETAILS],
        layer_digest=pkg.layer_digest,
        references=[r.url for r in advisory.references if r.url],
    )


def _merge(a: VulnMatch, b: VulnMatch, compare: Compare) -> VulnMatch:
    """Two advisories naming the same vulnerability for the same package: one match.

    The fixed version is the smallest one above the installed version either record gives
    (each is already above it); the severity is the higher rating, with its score and source.
    """
    fixes = [f for f in (a.fixed_version, b.fixed_version) if f]
    try:
        fixed = min(fixes, key=cmp_to_key(compare)) if fixes else ""
    except InvalidVersion:
        fixed = fixes[0]
    state = FIXED if fixed else (WONT_FIX if WONT_FIX in (a.fix_state, b.fix_state) else NOT_FIXED)
    rated = b if (severity.rank(b.severity), b.cvss_score) > (severity.rank(a.severity), a.cvss_score) else a
    return msgspec.structs.replace(
        a,
        advisory_ids=sorted({*a.advisory_ids, *b.advisory_ids}),
        fixed_version=fixed,
        fix_state=state,
        severity=rated.severity,
        cvss_score=rated.cvss_score,
        cvss_vector=rated.cvss_vector,
        severity_source=rated.severity_source,
        known_exploited=a.known_exploited or b.known_exploited,
        epss=max(a.epss, b.epss),
        summary=a.summary or b.summary,
        details=a.details or b.details,
        references=list(dict.fromkeys([*a.references, *b.references])),
    )


def _id_rank(ident: str) -> tuple[int, str]:
    # The id a merged match is known by: a CVE, else a GHSA, else any other id.
    return (0 if ident.startswith("CVE-") else 1 if ident.startswith("GHSA-") else 2, ident)


def merge_aliases(matches: Sequence[VulnMatch], compare: Compare) -> list[VulnMatch]:
    """One match per vulnerability among one package's ``matches``.

    Matches sharing any id (directly or through a chain: a GHSA listing a PYSEC that lists
    the CVE) are merged; the result is named by its lowest CVE id, else GHSA id, else id.
    """
    parent = list(range(len(matches)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, m in enumerate(matches):
        for ident in {m.vuln_id, *m.advisory_ids}:
            j = owner.setdefault(ident, i)
            parent[root(j)] = root(i)
    groups: dict[int, VulnMatch] = {}
    for i, m in enumerate(matches):
        r = root(i)
        groups[r] = _merge(groups[r], m, compare) if r in groups else m
    out = []
    for m in groups.values():
        ids = sorted({m.vuln_id, *m.advisory_ids})
        out.append(msgspec.structs.replace(m, vuln_id=min(ids, key=_id_rank), advisory_ids=ids))
    return out


class _Matcher:
    """One ``match_packages`` call's state: the notes and matches found so far."""

    def __init__(self, db: VulnDB, distro: Distro | None, packages: Sequence[PackageRecord]) -> None:
        self.db = db
        self.distro = distro
        self.inventory = {p.purl: p for p in packages}
        self.notes: dict[str, None] = {}
        self.gaps: dict[str, CoverageGap] = {}
        # (purl, name, version) -> the package's matches so far and its version ordering
        self.found: dict[tuple[str, str, str], tuple[list[VulnMatch], Compare]] = {}
        self.related: dict[str, tuple[str, ...]] = {}  # advisory id -> the CVEs it fixes (RHSA/ALSA)
        # (type, stand-in ecosystem, own ecosystem, whether the own vendor's exist) -> packages
        self.stood_in: dict[tuple[str, str, str, bool], list[str]] = {}

    def note(self, item: str | CoverageGap) -> None:
        if isinstance(item, CoverageGap):
            self.gaps.setdefault(item.id, item)
            self.notes[item.note()] = None
        else:
            self.notes[item] = None

    def resolve(self, pkg: PackageRecord) -> Query | CoverageGap | str:
        if pkg.owner:
            owner = owner_record(pkg.owner, self.inventory)
            if owner is not None:
                # The distribution's records for the owning package, never upstream's.
                return RESOLVERS[owner.type](self.distro, owner)
        resolver = RESOLVERS.get(pkg.type)
        if resolver is None:
            return f"{pkg.type or 'untyped'} packages are not matched yet"
        return resolver(self.distro, pkg)

    def match(self, pkg: PackageRecord) -> None:
        owner = self.inventory.get(pkg.owner) if pkg.owner else None
        if owner is not None and owner.type in RESOLVERS and owner.purl != pkg.purl:
            # The owning OS package is in the inventory and is matched itself against the same
            # distribution records at the same source version: its findings cover this package,
            # which would otherwise repeat each one (a Ruby's bundled gems, a Go binary's modules).
            return
        query = self.resolve(pkg)
        if not isinstance(query, Query):
            self.note(query)
            return
        primary = self._held(query.ecosystems)
        stand_ins = [held for group in query.fallbacks if (held := self._held(group))]
        if not primary and not stand_ins:
            self.note(no_advisories(query.ecosystem, pkg.type))
            return
        try:
            compare = comparator(query.ecosystem)
        except VulnDBError as exc:
            self.note(f"{pkg.type} packages not matched: {exc}")
            return
        try:
            compare(query.version, query.version)
        except InvalidVersion as exc:
            self.note(f"{pkg.name} {pkg.version} not matched: {exc}")
            return
        if primary and self._lookup(pkg, query, primary, compare):
            return
        # Per package: one the image's own vendor has no record of takes the first stand-in's that has one.
        for held in stand_ins:
            if self._lookup(pkg, query, held, compare):
                key = (pkg.type, held[0], query.ecosystem, bool(primary))
                self.stood_in.setdefault(key, []).append(pkg.name)
                return

    def _held(self, ecosystems: Iterable[str]) -> list[str]:
        return [e for e in ecosystems if self.db.has_ecosystem(e)]

    def _lookup(self, pkg: PackageRecord, query: Query, ecosystems: list[str], compare: Compare) -> bool:
        """Evaluate every record of ``ecosystems`` naming the package; whether there was any."""
        seen: set[str] = set()
        for ecosystem in ecosystems:
            for name in query.names:
                for advisory in self.db.advisories_for(ecosystem, name):
                    if advisory.id in seen:
                        continue
                    seen.add(advisory.id)
                    self._evaluate(pkg, query.version, ecosystem, advisory, compare)
        return bool(seen)

    def _stand_in_notes(self) -> list[str]:
        notes = []
        for (kind, ecosystem, own, partly), listed in self.stood_in.items():
            used = f"matched with {ecosystem_base(ecosystem)} records ({ecosystem})"
            if not partly:
                notes.append(f"{kind} packages {used}: the database has none for {own}")
                continue
            names = sorted(set(listed))
            more = f" and {len(names) - _NAMES_SHOWN} more" if len(names) > _NAMES_SHOWN else ""
            shown = ", ".join(names[:_NAMES_SHOWN])
            notes.append(f"{kind} packages without a {own} record {used}: {shown}{more}")
        return notes

    def _evaluate(
        self, pkg: PackageRecord, version: str, ecosystem: str, advisory: Advisory, compare: Compare
    ) -> None:
        # the whole advisory at once: its fix is the smallest fixed version that no entry still covers
        try:
            verdict = ranges.evaluate(version, advisory.affected, compare)
        except InvalidVersion as exc:
            self.note(f"{pkg.name} {pkg.version}: {advisory.id} not evaluated: {exc}")
            return
        for note in verdict.notes:
            self.note(f"{pkg.name} {pkg.version}: {advisory.id}: {note}")
        if not verdict.affected:
            return
        best: tuple[str, FixState] | None = None  # (fixed, fix state) of the entry that applies
        for entry in advisory.affected:
            try:
                hit, entry_fixed = ranges.affected(version, entry, compare)
            except InvalidVersion:
                continue
            if not hit:
                continue
            fixed = verdict.fixed or entry_fixed or _listed_fix(version, entry, compare)
            best = (fixed, fix_state(advisory, entry, fixed))
            break
        if best is None:
            return
        found, _ = self.found.setdefault((pkg.purl, pkg.name, pkg.version), ([], compare))
        match = _to_match(pkg, ecosystem, advisory, *best)
        found.append(match)
        if advisory.related:
            self.related[advisory.id] = advisory.related

    def _exploitation(self, matches: list[VulnMatch]) -> list[VulnMatch]:
        """Mark matches whose CVEs (own, aliases, or an RHSA's related ones) CISA lists, with EPSS."""
        ids = {i for m in matches for i in (*m.advisory_ids, *self.related.get(m.vuln_id, ()))}
        kev = self.db.known_exploited(ids)
        epss = self.db.epss(ids)
        if not kev and not epss:
            return matches
        out = []
        for m in matches:
            mine = {*m.advisory_ids, *self.related.get(m.vuln_id, ())}
            exploited = any(i in kev for i in mine)
            score = max((epss[i].epss for i in mine if i in epss), default=0.0)
            out.append(
                msgspec.structs.replace(m, known_exploited=exploited, epss=score) if exploited or score else m
            )
        return out

    def _rated(self, matches: list[VulnMatch]) -> list[VulnMatch]:
        """Severities (or CVSS scores) the advisories did not give, from the CVE records' ratings."""
        lacking = [m for m in matches if m.severity == severity.UNKNOWN or not m.cvss_score]
        ratings = self.db.cve_ratings(
            {i for m in lacking for i in (*m.advisory_ids, *self.related.get(m.vuln_id, ()))}
        )
        if not ratings:
            return matches
        return [
            cvss_source.rate_match(
                m, [ratings.get(i, []) for i in {*m.advisory_ids, *self.related.get(m.vuln_id, ())}]
            )
            for m in matches
        ]

    def _by_cve(self, found: list[VulnMatch], compare: Compare) -> list[VulnMatch]:
        """One package's matches, one per vulnerability, errata split by the CVEs they fix."""
        out: dict[str, VulnMatch] = {}
        for merged in merge_aliases(found, compare):
            for m in errata.per_cve(merged, self.related):
                out[m.vuln_id] = _merge(out[m.vuln_id], m, compare) if m.vuln_id in out else m
        return list(out.values())

    def result(self) -> MatchResult:
        merged = [m for found, compare in self.found.values() for m in self._by_cve(found, compare)]
        merged = self._rated(self._exploitation(merged))
        matches = sorted(merged, key=lambda m: (m.package_name, m.package_version, m.vuln_id))
        notes = [*self.notes, *self._stand_in_notes()]
        return MatchResult(matches=matches, notes=notes, gaps=list(self.gaps.values()))


def match_packages(db: VulnDB, distro: Distro | None, packages: Sequence[PackageRecord]) -> MatchResult:
    """Every advisory in ``db`` that affects one of ``packages``, plus notes on what was not matched.

    One ``VulnMatch`` per (vulnerability, package); never raises for bad or unsupported
    input (only ``VulnDBError`` if the database itself fails).
    """
    matcher = _Matcher(db, distro, packages)
    for pkg in packages:
        matcher.match(pkg)
    return matcher.result()
