"""Which OS package owns a file: dpkg file lists, apk ``R:`` lines and rpm file lists.

A language package whose files belong to an OS package (``python3-requests`` installs
``requests-2.28.1.egg-info``; ``liblog4j2-java`` installs ``log4j-core.jar``) is marked as
owned by it, so that matching uses the distribution's advisories instead of upstream's.

apk and rpm carry file lists inside their databases, so their catalogers put them on
``RawPackage.files``; dpkg keeps them beside its status file, read as the dpkg cataloger's
companion (``catalogers/debian/companions.py``) and held here under a name until bound.
The index holds one entry per OS-owned path: it grows with the package database, not
with the bytes in the image.
"""

from __future__ import annotations

from collections.abc import Iterable

OS_PACKAGE_TYPES = frozenset({"deb", "apk", "rpm"})
# Paths the index holds per image (about 80 bytes each): real images own a few hundred thousand.
OWNED_PATHS_MAX = 1_000_000
_MERGED_DIRS = frozenset({"bin", "sbin", "lib", "lib32", "lib64", "libx32"})  # linked into /usr


def location_path(location: str) -> str:
    """The image path of a package location: ``/a/b.war:WEB-INF/lib/c.jar`` -> ``a/b.war``."""
    return location.split(":", 1)[0].lstrip("/")


class OwnershipIndex:
    """Path (no leading slash) -> purl of the OS package that installed it.

    Compact, because dpkg file lists are image content an attacker controls: a path is held
    as its hash (an int, not the string) mapped to a small owner number, and at most
    ``max_paths`` paths are held; once full, the rest of each list is not read and
    ``dropped`` counts the lists cut short. Owners are purls, or package names of a companion
    file list (dpkg's) bound to a purl later (``add_pending`` during the walk, ``bind`` once
    the status file has been read). A 64-bit hash collision could give a path a wrong owner;
    at a few million paths the chance is below one in a million.
    """

    def __init__(self, max_paths: int = OWNED_PATHS_MAX) -> None:
        self._owner: dict[int, int] = {}  # hash(path) -> owner number
        self._purls: list[str] = []  # owner number -> purl ("" while unbound)
        self._numbers: dict[str, int] = {}  # owner key (purl, or "dpkg:" + name) -> owner number
        self._max = max_paths
        self.dropped = 0  # path lists cut short because the index was full

    def _number(self, key: str, purl: str) -> int:
        number = self._numbers.get(key)
        if number is None:
            number = self._numbers[key] = len(self._purls)
            self._purls.append(purl)
        return number

    def _add(self, paths: Iterable[str], number: int) -> None:
        owner = self._owner
        for path in paths:
            key = hash(path.lstrip("/"))
            if key in owner:
                continue
            if len(owner) >= self._max:
                self.dropped += 1
                return
            owner[key] = number

    def add(self, paths: Iterable[str], owner_purl: str) -> None:
        """Paths owned by the package ``owner_purl`` (the first owner of a path wins)."""
        self._add(paths, self._number(owner_purl, owner_purl))

    def add_pending(self, paths: Iterable[str], name: str) -> None:
        """Paths from a companion file list (dpkg's), owned by whichever package ``bind`` names ``name``."""
        self._add(paths, self._number("pending:" + name, ""))

    def bind(self, name: str, owner_purl: str) -> None:
        """The package that owns ``name``'s listed paths (the first one bound wins)."""
        number = self._numbers.get("pending:" + name)
        if number is not None and not self._purls[number]:
            self._purls[number] = owner_purl

    def owner_of(self, path: str) -> str | None:
        """The owning OS package's purl for an image path (leading slash optional)."""
        number = self._owner.get(hash(path.lstrip("/")))
        return (self._purls[number] or None) if number is not None else None

    def owner_of_locations(self, locations: Iterable[str]) -> str | None:
        """The owner of the first location an OS package installed, if any."""
        for location in locations:
            owner = self.owner_of(location_path(location))
            if owner is not None:
                return owner
        return None

    def owner_across_usr_merge(self, locations: Iterable[str]) -> str | None:
        """``owner_of_locations``, also trying each path's merged-/usr twin.

        On merged-/usr systems ``/bin`` is a link to ``/usr/bin``: dpkg lists ``bin/bash``
        while the walk finds the file at ``usr/bin/bash`` (and the other way round).
        """
        for location in locations:
            path = location_path(location)
            head, _, rest = path.partition("/")
            if head == "usr":
                twin = rest if rest.split("/", 1)[0] in _MERGED_DIRS else ""
            else:
                twin = f"usr/{path}" if head in _MERGED_DIRS else ""
            owner = self.owner_of(path) or (self.owner_of(twin) if twin else None)
            if owner is not None:
                return owner
        return None

    def __len__(self) -> int:
        return len(self._owner)
