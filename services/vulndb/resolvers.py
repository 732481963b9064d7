"""Which advisories apply to a package: one resolver per package (purl) type.

A resolver turns ``(distro, package)`` into a ``Query`` (the OSV ecosystems, package
names and version to look up), a ``CoverageGap`` (the package cannot be checked, and the
report must say so) or a plain note. OS packages are looked up by *source* package in
their own distribution's ecosystem only, so a Debian package is never compared with
another distribution's or an upstream advisory. Language packages use their registry's
ecosystem and the name OSV uses there (PEP 503 names on PyPI, ``@scope/name`` on npm,
``groupId:artifactId`` on Maven, module paths on Go, ``vendor/name`` on Packagist).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

import msgspec
from packageurl import PackageURL

from schemas.records import Distro, PackageRecord
from services.vulndb.coverage import CoverageGap, unknown_distro, unsupported_distro


class Query(msgspec.Struct, frozen=True):
    """What to look up for one package.

    ``ecosystem`` and ``alt_ecosystems`` are every OSV ecosystem whose records apply (the
    matcher reads those the database holds, e.g. the BaseOS and AppStream streams of one
    RHEL release); ``name`` and ``alt_names`` are spellings of the package's name there.
    ``fallbacks`` are stand-ins, each one vendor's ecosystems, for a package the database has
    no record of in those: the records of another rebuild of the same RHEL release (AlmaLinux's
    for a CentOS or Rocky image). Per package, the matcher reads the first group naming it,
    and says so.
    """

    ecosystem: str
    name: str
    version: str
    alt_names: tuple[str, ...] = ()
    alt_ecosystems: tuple[str, ...] = ()
    fallbacks: tuple[tuple[str, ...], ...] = ()

    @property
    def ecosystems(self) -> tuple[str, ...]:
        """``ecosystem`` then ``alt_ecosystems``, without repeats."""
        return tuple(dict.fromkeys((self.ecosystem, *self.alt_ecosystems)))

    @property
    def names(self) -> tuple[str, ...]:
        """``name`` then ``alt_names``, without repeats or empty strings."""
        return tuple(n for n in dict.fromkeys((self.name, *self.alt_names)) if n)


Resolved = Query | CoverageGap | str
Resolver = Callable[[Distro | None, PackageRecord], Resolved]
"""(distro, package) -> the lookup to make, a coverage gap, or a note saying why there is none."""

DistroEcosystems = Callable[[Distro], tuple[str, ...]]

_MAJOR_MINOR: Final = re.compile(r"^(\d+)(?:\.(\d+))?")
_PEP503: Final = re.compile(r"[-_.]+")

# Red Hat publishes one OSV ecosystem per product stream (the CPE without "cpe:/o:redhat:"):
# RHEL 8 and 9 by repository, RHEL 5 to 7 by variant (plus Extended Life Support), RHEL 10 by
# minor release ("enterprise_linux:10.0").
_RHEL_STREAMS: Final = ("baseos", "appstream", "crb", "supplementary", "highavailability", "resilientstorage")
_RHEL_VARIANTS: Final = ("server", "workstation", "client", "computenode")


def _major(distro: Distro) -> str:
    m = _MAJOR_MINOR.match(distro.version_id)
    return m.group(1) if m else ""


def _debian(distro: Distro) -> tuple[str, ...]:
    major = _major(distro)
    return (f"Debian:{major}",) if major else ()


def _ubuntu(distro: Distro) -> tuple[str, ...]:
    m = _MAJOR_MINOR.match(distro.version_id)
    if not m or m.group(2) is None:
        return ()
    release = f"{m.group(1)}.{m.group(2)}"
    # LTS releases carry ":LTS" in OSV; which releases are LTS is the data's business, so ask for both.
    return (f"Ubuntu:{release}:LTS", f"Ubuntu:{release}")


def _alpine(distro: Distro) -> tuple[str, ...]:
    m = _MAJOR_MINOR.match(distro.version_id)
    return (f"Alpine:v{m.group(1)}.{m.group(2)}",) if m and m.group(2) is not None else ()


def _rhel(distro: Distro) -> tuple[str, ...]:
    m = _MAJOR_MINOR.match(distro.version_id)
    if not m:
        return ()
    major = int(m.group(1))
    if major >= 10:
        return tuple(
            f"Red Hat:enterprise_linux:{major}.{minor}" for minor in range(int(m.group(2) or 0), -1, -1)
        )
    if major <= 7:
        return (
            *(f"Red Hat:enterprise_linux:{major}::{v}" for v in _RHEL_VARIANTS),
            f"Red Hat:rhel_els:{major}",
        )
    return tuple(f"Red Hat:enterprise_linux:{major}::{s}" for s in _RHEL_STREAMS)


def _release(name: str) -> DistroEcosystems:
    def ecosystems(distro: Distro) -> tuple[str, ...]:
        major = _major(distro)
        return (f"{name}:{major}",) if major else ()

    return ecosystems


_ALMA, _ROCKY = _release("AlmaLinux"), _release("Rocky Linux")
_ORACLE = _release("Oracle Linux")  # ELSA, from Oracle's OVAL (elsa.py) or updateinfo.xml


def _amazon(distro: Distro) -> tuple[str, ...]:
    """Amazon Linux 2 and 2023 by VERSION_ID; the Amazon Linux AMI (2015.03-2018.03) is release "1".

    Its ALAS ids name the release the same way (``updateinfo.py``): ALAS2023-, ALAS2-, ALAS-.
    """
    major = _major(distro)
    if not major:
        return ()
    return ("Amazon Linux:1",) if 2010 <= int(major) <= 2018 else (f"Amazon Linux:{major}",)


DEB_DISTROS: Final[dict[str, DistroEcosystems]] = {"debian": _debian, "ubuntu": _ubuntu}
APK_DISTROS: Final[dict[str, DistroEcosystems]] = {"alpine": _alpine}
RPM_DISTROS: Final[dict[str, DistroEcosystems]] = {
    "rhel": _rhel,
    "centos": _rhel,  # CentOS Linux and Stream: rebuilt from (or ahead of) the same RHEL release
    "almalinux": _ALMA,
    "rocky": _ROCKY,
    "ol": _ORACLE,
    "amzn": _amazon,  # VERSION_ID "2" or "2023": its own packages and ALAS, no RHEL stand-in
}
# RHEL and its rebuilds ship the same sources at the same release numbers: for a package the
# database has no record of from the image's own vendor, another's for the same major release stand in.
RPM_FALLBACKS: Final[dict[str, tuple[DistroEcosystems, ...]]] = {
    "rhel": (_ALMA, _ROCKY),
    "centos": (_ALMA, _ROCKY),
    "almalinux": (_rhel, _ROCKY),
    "rocky": (_rhel, _ALMA),
    "ol": (_rhel, _ALMA, _ROCKY),
}
OS_TYPES: Final = frozenset({"deb", "apk", "rpm"})


def _rpm_version(pkg: PackageRecord, version: str) -> str:
    # OSV RPM versions are epoch:version-release; an epoch the cataloger kept apart is put back.
    epoch = pkg.metadata.get("epoch", "")
    return f"{epoch}:{version}" if epoch and ":" not in version else version


def _os_resolver(package_type: str, distros: dict[str, DistroEcosystems]) -> Resolver:
    def resolve(distro: Distro | None, pkg: PackageRecord) -> Resolved:
        if distro is None:
            return unknown_distro(package_type)
        to_ecosystems = distros.get(distro.id)
        if to_ecosystems is None:
            return unsupported_distro(package_type, distro)
        ecosystems = to_ecosystems(distro)
        if not ecosystems:
            return unsupported_distro(package_type, distro, reason="no release number in VERSION_ID")
        alt: tuple[str, ...] = ()
        fallbacks: tuple[tuple[str, ...], ...] = ()
        if package_type == "rpm":
            # Red Hat and AlmaLinux name binary RPMs in their records; the source RPM name is a fallback.
            name, alt = pkg.name, (pkg.source_name,)
            version = _rpm_version(pkg, pkg.version)
            fallbacks = tuple(g for f in RPM_FALLBACKS.get(distro.id, ()) if (g := f(distro)))
        else:
            name = pkg.source_name or pkg.name
            version = pkg.source_version or pkg.version
        return Query(
            ecosystems[0], name, version, alt_names=alt, alt_ecosystems=ecosystems[1:], fallbacks=fallbacks
        )

    return resolve


def _parse(pkg: PackageRecord) -> PackageURL | None:
    try:
        return PackageURL.from_string(pkg.purl)
    except ValueError:
        return None


def pep503(name: str) -> str:
    """The normalised PyPI project name (PEP 503): lower case, runs of ``-_.`` as one ``-``."""
    return _PEP503.sub("-", name).lower()


def _pypi(_distro: Distro | None, pkg: PackageRecord) -> Resolved:
    return Query("PyPI", pep503(pkg.name), pkg.version, alt_names=(pkg.name,))


def _namespaced(ecosystem: str, sep: str) -> Resolver:
    """npm ``@scope/name`` and Packagist ``vendor/name``: purl namespace and name joined."""

    def resolve(_distro: Distro | None, pkg: PackageRecord) -> Resolved:
        purl = _parse(pkg)
        if purl is not None and purl.namespace:
            return Query(ecosystem, f"{purl.namespace}{sep}{purl.name}", pkg.version)
        return Query(ecosystem, purl.name if purl is not None else pkg.name, pkg.version)

    return resolve


def _maven(_distro: Distro | None, pkg: PackageRecord) -> Resolved:
    purl = _parse(pkg)
    group = purl.namespace if purl is not None else ""
    if not group:
        return f"maven package {pkg.name} {pkg.version} not matched: no groupId is known for it"
    artifact = purl.name if purl is not None else pkg.name
    return Query("Maven", f"{group}:{artifact}", pkg.version)


def _go(_distro: Distro | None, pkg: PackageRecord) -> Resolved:
    purl = _parse(pkg)
    path = pkg.name
    if purl is not None:
        path = f"{purl.namespace}/{purl.name}" if purl.namespace else purl.name
    version = pkg.version
    if version in ("(devel)", ""):
        # A main module built from a source checkout has no version to compare.
        return f"go module {path} {version} not matched: a main module built without a version"
    if path == "stdlib":
        version = version.removeprefix("go")
    # OSV Go versions are SemVer without the leading "v".
    return Query("Go", path, version.removeprefix("v"))


def _plain(ecosystem: str) -> Resolver:
    def resolve(_distro: Distro | None, pkg: PackageRecord) -> Resolved:
        return Query(ecosystem, pkg.name, pkg.version)

    return resolve


# Package type (purl type) -> resolver: the one extension point for a new ecosystem.
RESOLVERS: Final[dict[str, Resolver]] = {
    "deb": _os_resolver("deb", DEB_DISTROS),
    "apk": _os_resolver("apk", APK_DISTROS),
    "rpm": _os_resolver("rpm", RPM_DISTROS),
    "pypi": _pypi,
    "npm": _namespaced("npm", "/"),
    "maven": _maven,
    "gem": _plain("RubyGems"),
    "nuget": _plain("NuGet"),
    "golang": _go,
    "cargo": _plain("crates.io"),
    "composer": _namespaced("Packagist", "/"),
}


def owner_record(owner_purl: str, inventory: dict[str, PackageRecord]) -> PackageRecord | None:
    """The OS package named by a language package's ``owner`` purl.

    Taken from the inventory when it is there (it knows the source package); otherwise
    built from the purl itself (its ``upstream`` qualifier names the source, as syft and
    Trivy write it). None when the purl is not an OS package's.
    """
    found = inventory.get(owner_purl)
    if found is not None:
        return found if found.type in OS_TYPES else None
    try:
        purl = PackageURL.from_string(owner_purl)
    except ValueError:
        return None
    if purl.type not in OS_TYPES or not purl.version:
        return None
    quals = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    source = quals.get("upstream", "")
    source_name, _, source_version = source.partition("@")
    return PackageRecord(
        name=purl.name,
        version=purl.version,
        type=purl.type,
        purl=owner_purl,
        source_name=source_name,
        source_version=source_version,
    )
