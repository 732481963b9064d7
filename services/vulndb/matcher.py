"""Match installed packages against the advisory database.

Each package type has a resolver in ``RESOLVERS`` that says which OSV ecosystem,
package name and version to look up (or, as a note, why it cannot). OS packages are
looked up by their *source* package, as Debian and Alpine publish advisories per
source package. A version is affected when ``ranges.affected`` says so; a package at
or above the fixed version is not. Anything that cannot be matched (an unsupported
distribution, a release the database has no data for, a malformed version) becomes
a note in the result, never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Final

import msgspec

from schemas.records import Distro, PackageRecord, VulnMatch
from services.common.errors import VulnDBError
from services.vulndb import ranges, severity
from services.vulndb.db import Advisory, VulnDB
from services.vulndb.versions import InvalidVersion, comparator

MAX_DETAILS: Final = 2000


class Query(msgspec.Struct, frozen=True):
    """What to look up for one package: OSV ecosystem, package name and version to compare."""

    ecosystem: str
    name: str
    version: str


class MatchResult(msgspec.Struct, frozen=True):
    """The matches found and notes on what could not be matched."""

    matches: list[VulnMatch]
    notes: list[str]


Resolver = Callable[[Distro | None, PackageRecord], Query | str]
"""(distro, package) -> the lookup to make, or a note saying why there is none."""

_MAJOR_MINOR: Final = re.compile(r"^(\d+)(?:\.(\d+))?")


def _debian_ecosystem(distro: Distro) -> str | None:
    m = _MAJOR_MINOR.match(distro.version_id)
    return f"Debian:{m.group(1)}" if m else None


def _alpine_ecosystem(distro: Distro) -> str | None:
    m = _MAJOR_MINOR.match(distro.version_id)
    return f"Alpine:v{m.group(1)}.{m.group(2)}" if m and m.group(2) is not None else None


DistroEcosystem = Callable[[Distro], str | None]

DEB_DISTROS: Final[dict[str, DistroEcosystem]] = {"debian": _debian_ecosystem}
APK_DISTROS: Final[dict[str, DistroEcosystem]] = {"alpine": _alpine_ecosystem}


def _os_resolver(package_type: str, distros: dict[str, DistroEcosystem]) -> Resolver:
    def resolve(distro: Distro | None, pkg: PackageRecord) -> Query | str:
        if distro is None:
            return f"{package_type} packages not matched: the image's distribution is unknown"
        to_ecosystem = distros.get(distro.id)
        if to_ecosystem is None:
            return f"{package_type} packages on {distro.id!r} are not matched yet"
        ecosystem = to_ecosystem(distro)
        if ecosystem is None:
            return (
                f"{package_type} packages not matched: no release number in "
                f"{distro.id} VERSION_ID {distro.version_id!r}"
            )
        return Query(ecosystem, pkg.source_name or pkg.name, pkg.source_version or pkg.version)

    return resolve


# Package type (purl type) -> resolver. Language ecosystems plug in here, e.g.
# "pypi": lambda _distro, p: Query("PyPI", p.name, p.version).
RESOLVERS: Final[dict[str, Resolver]] = {
    "deb": _os_resolver("deb", DEB_DISTROS),
    "apk": _os_resolver("apk", APK_DISTROS),
}


def preferred_id(advisory: Advisory) -> str:
    """The CVE id of an advisory if it has one (id, then aliases, then upstream), else its id."""
    if advisory.id.startswith("CVE-"):
        return advisory.id
    for group in (advisory.aliases, advisory.upstream):
        cves = sorted(a for a in group if a.startswith("CVE-"))
        if cves:
            return cves[0]
    return advisory.id


def _to_match(pkg: PackageRecord, query: Query, advisory: Advisory, fixed: str) -> VulnMatch:
    return VulnMatch(
        vuln_id=preferred_id(advisory),
        package_name=pkg.name,
        package_version=pkg.version,
        package_purl=pkg.purl,
        advisory_ids=sorted({advisory.id, *advisory.aliases, *advisory.upstream}),
        ecosystem=query.ecosystem,
        fixed_version=fixed,
        severity=severity.severity_of(
            advisory.database_specific,
            [e.ecosystem_specific for e in advisory.affected],
            advisory.severity,
        ),
        summary=advisory.summary,
        details=advisory.details[:MAX_DETAILS],
        layer_digest=pkg.layer_digest,
        references=[r.url for r in advisory.references if r.url],
    )


def _merge(a: VulnMatch, b: VulnMatch) -> VulnMatch:
    """Two advisories naming the same vulnerability for the same package: one match."""
    sev = b.severity if severity.rank(b.severity) > severity.rank(a.severity) else a.severity
    return msgspec.structs.replace(
        a,
        advisory_ids=sorted({*a.advisory_ids, *b.advisory_ids}),
        fixed_version=a.fixed_version or b.fixed_version,
        severity=sev,
        summary=a.summary or b.summary,
        details=a.details or b.details,
        references=list(dict.fromkeys([*a.references, *b.references])),
    )


def match_packages(db: VulnDB, distro: Distro | None, packages: Sequence[PackageRecord]) -> MatchResult:
    """Every advisory in ``db`` that affects one of ``packages``, plus notes on what was not matched.

    One ``VulnMatch`` per (vulnerability id, package); never raises for bad or unsupported
    input (only ``VulnDBError`` if the database itself fails).
    """
    notes: dict[str, None] = {}
    found: dict[tuple[str, str, str, str], VulnMatch] = {}
    for pkg in packages:
        resolver = RESOLVERS.get(pkg.type)
        if resolver is None:
            notes[f"{pkg.type or 'untyped'} packages are not matched yet"] = None
            continue
        query = resolver(distro, pkg)
        if isinstance(query, str):
            notes[query] = None
            continue
        if not db.has_ecosystem(query.ecosystem):
            notes[f"no advisories for {query.ecosystem} in the database"] = None
            continue
        try:
            compare = comparator(query.ecosystem)
        except VulnDBError as exc:
            notes[str(exc)] = None
            continue
        try:
            compare(query.version, query.version)
        except InvalidVersion as exc:
            notes[f"{pkg.name} {pkg.version} not matched: {exc}"] = None
            continue
        for advisory in db.advisories_for(query.ecosystem, query.name):
            for entry in advisory.affected:
                try:
                    hit, fixed = ranges.affected(query.version, entry, compare)
                except InvalidVersion as exc:
                    notes[f"{pkg.name} {pkg.version}: {advisory.id} not evaluated: {exc}"] = None
                    continue
                if not hit:
                    continue
                match = _to_match(pkg, query, advisory, fixed)
                key = (match.vuln_id, pkg.name, pkg.version, pkg.purl)
                found[key] = _merge(found[key], match) if key in found else match
                break
    matches = sorted(found.values(), key=lambda m: (m.package_name, m.package_version, m.vuln_id))
    return MatchResult(matches=matches, notes=list(notes))
