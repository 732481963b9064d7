"""Which declared packages (named by a lockfile, not found installed) an image scan reports.

A source tree copied into an image declares what it will run; when its packages are not
installed (no ``node_modules``, no site-packages) the lockfile is all there is, so its
packages are reported, marked ``declared``. Two kinds are left out: lockfiles that sit
inside an installed package's own files (a gem's or an npm package's development
lockfile says nothing about the image), and declared packages whose name is also
installed, where the installed record (whatever its version) is the better evidence.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.records import PackageRecord
from services.engine.ownership import location_path

# path segments under which a lockfile belongs to an installed package, not to the image's app
INSTALLED_TREES = frozenset({"node_modules", "site-packages", "dist-packages", "gems", "vendor"})
CACHE_PARTS = (".cargo/registry/", "pkg/mod/")  # cargo's and Go's module caches
SYSTEM_PREFIXES = ("usr/share/", "usr/lib/", "usr/libexec/")


def in_installed_tree(location: str) -> bool:
    """Whether a lockfile location lies inside an installed package's or the OS's own files."""
    path = location_path(location)
    if path.startswith(SYSTEM_PREFIXES) or any(part in path for part in CACHE_PARTS):
        return True
    return any(segment in INSTALLED_TREES for segment in path.split("/")[:-1])


def _key(pkg: PackageRecord) -> tuple[str, str]:
    # the purl's namespace and name are normalised per ecosystem (PEP 503 for pypi, ...)
    path = pkg.purl.split("?", 1)[0].split("@", 1)[0]
    return (pkg.type, path.lower().replace("_", "-"))


def filter_declared(packages: Sequence[PackageRecord]) -> list[PackageRecord]:
    """Installed packages, plus declared ones that are neither in an installed tree nor installed."""
    installed = {_key(p) for p in packages if not p.declared}
    return [
        p
        for p in packages
        if not p.declared
        or (_key(p) not in installed and not any(in_installed_tree(loc) for loc in p.locations))
    ]
