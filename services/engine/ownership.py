"""Which OS package owns a file: dpkg file lists, apk ``R:`` lines and rpm file lists.

A language package whose files belong to an OS package (``python3-requests`` installs
``requests-2.28.1.egg-info``; ``liblog4j2-java`` installs ``log4j-core.jar``) is marked as
owned by it, so that matching uses the distribution's advisories instead of upstream's.

dpkg keeps its file lists beside the status file (``var/lib/dpkg/info/NAME[:ARCH].list``);
distroless images keep ``var/lib/dpkg/status.d/NAME.md5sums`` instead. apk and rpm carry
file lists inside their databases, so their catalogers put them on ``RawPackage.files``.
The index holds one entry per OS-owned path: it grows with the package database, not
with the bytes in the image.
"""

from __future__ import annotations

from collections.abc import Iterable

from services.engine.requests import FileRequest

OS_PACKAGE_TYPES = frozenset({"deb", "apk", "rpm"})

REQUEST = FileRequest(
    name="dpkg-file-lists",
    patterns=("var/lib/dpkg/info/*.list", "var/lib/dpkg/status.d/*.md5sums"),
    max_bytes=32 * 1024 * 1024,
)


def dpkg_list_package(path: str) -> str:
    """The package a dpkg list file belongs to: ``info/libssl3:amd64.list`` -> ``libssl3``."""
    base = path.rsplit("/", 1)[-1]
    for suffix in (".list", ".md5sums"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return base.split(":", 1)[0]


def parse_dpkg_list(path: str, data: bytes) -> list[str]:
    """Owned paths (no leading slash) of a ``.list`` (one absolute path a line) or ``.md5sums`` file."""
    text = data.decode("utf-8", errors="replace")
    md5sums = path.endswith(".md5sums")
    out: list[str] = []
    for line in text.splitlines():
        if md5sums:
            parts = line.split(None, 1)
            if len(parts) != 2:
                continue
            line = parts[1]
        entry = line.strip().lstrip("/")
        if entry and entry != ".":
            out.append(entry)
    return out


def location_path(location: str) -> str:
    """The image path of a package location: ``/a/b.war:WEB-INF/lib/c.jar`` -> ``a/b.war``."""
    return location.split(":", 1)[0].lstrip("/")


class OwnershipIndex:
    """Path (no leading slash) -> purl of the OS package that installed it."""

    def __init__(self) -> None:
        self._owner: dict[str, str] = {}

    def add(self, paths: Iterable[str], owner_purl: str) -> None:
        for path in paths:
            self._owner.setdefault(path.lstrip("/"), owner_purl)

    def owner_of(self, path: str) -> str | None:
        """The owning OS package's purl for an image path (leading slash optional)."""
        return self._owner.get(path.lstrip("/"))

    def owner_of_locations(self, locations: Iterable[str]) -> str | None:
        """The owner of the first location an OS package installed, if any."""
        for location in locations:
            owner = self.owner_of(location_path(location))
            if owner is not None:
                return owner
        return None

    def __len__(self) -> int:
        return len(self._owner)
