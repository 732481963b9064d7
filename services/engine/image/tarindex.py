"""An index of a tar file's members, so archives are read in place and never extracted.

The tar is scanned once for headers; afterwards each member is a byte range of the outer
file (``BlobRange``), read by seeking. Symlink and hardlink members resolve to the member
they point at (skopeo's docker-archive links ``<id>/layer.tar`` to ``<digest>.tar``). A
gzip-compressed outer tar (``docker save | gzip``) also works, at the cost of decompressing
up to each member when it is read.
"""

from __future__ import annotations

import gzip
import posixpath
import tarfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO, cast

from services.common.errors import ImageError
from services.engine.image.blobio import MAX_METADATA_BYTES, BlobRange, read_range

__all__ = ["TarIndex"]

_MAX_LINK_HOPS = 16


def _normalise(name: str) -> str:
    name = posixpath.normpath("/" + name).lstrip("/")
    return "" if name == "." else name


def _opener(path: Path, gzipped: bool) -> Callable[[], BinaryIO]:
    def open_plain() -> BinaryIO:
        return path.open("rb")

    def open_gzip() -> BinaryIO:
        return cast(BinaryIO, gzip.open(path, "rb"))

    return open_gzip if gzipped else open_plain


class TarIndex:
    """Member name to ``TarInfo`` for one tar file, with links resolved on lookup."""

    def __init__(self, path: Path, what: str, members: Iterable[tarfile.TarInfo], gzipped: bool) -> None:
        self.path = path
        self.what = what
        self._open = _opener(path, gzipped)
        self._members: dict[str, tarfile.TarInfo] = {}
        for member in members:
            self._members[_normalise(member.name)] = member

    @classmethod
    def build(cls, path: Path, what: str) -> TarIndex:
        """Scan ``path`` once (blocking). ``ImageError`` naming ``what`` if it is not a tar."""
        try:
            with path.open("rb") as f:
                gzipped = f.read(2) == b"\x1f\x8b"
            opener = _opener(path, gzipped)
            with opener() as raw, tarfile.open(fileobj=raw, mode="r:") as tar:
                members = tar.getmembers()
        except (OSError, EOFError, tarfile.TarError) as exc:
            raise ImageError(f"{what}: cannot read the archive: {exc}") from exc
        return cls(path, what, members, gzipped)

    def names(self) -> list[str]:
        """Every member name, normalised (no leading ``./``)."""
        return list(self._members)

    def __contains__(self, name: str) -> bool:
        return _normalise(name) in self._members

    def resolve(self, name: str) -> tarfile.TarInfo:
        """The regular-file member ``name`` is or links to; ``ImageError`` if there is none."""
        current = _normalise(name)
        for _ in range(_MAX_LINK_HOPS):
            member = self._members.get(current)
            if member is None:
                raise ImageError(f"{self.what}: {name} missing from the archive")
            if member.issym():
                target = member.linkname
                base = "" if target.startswith("/") else posixpath.dirname(current)
                current = _normalise(posixpath.join(base, target))
            elif member.islnk():
                current = _normalise(member.linkname)
            elif member.isfile():
                return member
            else:
                raise ImageError(f"{self.what}: {name} is not a regular file in the archive")
        raise ImageError(f"{self.what}: {name}: too many levels of links in the archive")

    def locate(self, name: str) -> BlobRange:
        """The byte range of member ``name`` (following links) in the outer file."""
        member = self.resolve(name)
        return BlobRange(self._open, member.offset_data, member.size)

    def read(self, name: str, digest: str | None = None, limit: int = MAX_METADATA_BYTES) -> bytes:
        """Read a small member whole (blocking), checking ``digest`` when given."""
        return read_range(self.locate(name), digest, f"{self.what}: {name}", limit)
