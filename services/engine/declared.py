"""Which declared packages (named by a lockfile, not found installed) an image scan reports.

A source tree copied into an image declares what it will run; when its packages are not
installed (no ``node_modules``, no site-packages) the lockfile is all there is, so its
packages are reported, marked ``declared``. Two kinds are left out: lockfiles that sit
inside an installed package's own files (a gem's or an npm package's development
lockfile says nothing about the image), and declared packages installed at the same
version by the application itself (``node_modules/lodash`` beside the lockfile pinning
it), where the installed record is the same package with better evidence.

A declared package is kept when the installed copy of that name is another version
(a ``Gemfile.lock`` pinning rack 2.0.1 beside Debian's ruby-rack 2.2) or belongs to an OS
package (``owner`` set: the distribution's copy, not the application's bundle): both are
then reported, each at its own location, and each is matched against its own data (the
lockfile's against the language ecosystem's advisories, the OS copy against the
distribution's).
"""

from __future__ import annotations

import re
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


_TRAILING_ZEROS = re.compile(r"(?:\.0+)+$")


def _same_version(version: str) -> str:
    """A version's form for equality: ``3.2``, ``3.2.0`` (PEP 440, RubyGems, Maven) and ``v3.2`` are one."""
    return _TRAILING_ZEROS.sub("", version.strip().lower().removeprefix("v"))


def _key(pkg: PackageRecord) -> tuple[str, str, str]:
    # the purl's namespace and name are normalised per ecosystem (PEP 503 for pypi, ...)
    path = pkg.purl.split("?", 1)[0].split("@", 1)[0]
    return (pkg.type, path.lower().replace("_", "-"), _same_version(pkg.version))


def filter_declared(packages: Sequence[PackageRecord]) -> list[PackageRecord]:
    """Installed packages, plus declared ones neither in an installed tree nor installed by the app."""
    installed = {_key(p) for p in packages if not p.declared and not p.owner}
    return [
        p
        for p in packages
        if not p.declared
        or (_key(p) not in installed and not any(in_installed_tree(loc) for loc in p.locations))
    ]
