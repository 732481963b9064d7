"""An index of a tar file's members, so archives are read in place and never extracted.

The tar is scanned once for headers; afterwards each member is a byte range of the outer
file (``BlobRange``), read by seeking. Symlink and hardlink members resolve to the member
they point at (skopeo's docker-archive links ``<id>/layer.tar`` to ``<digest>.tar``). A
gzip-compressed outer tar (``docker save | gzip``) is inflated once to a temporary file,
within the scan's temporary-disk and decompressed-bytes budgets, and read from there:
seeking inside a gzip stream would inflate it again from the start for every member.
"""

from __future__ import annotations

import gzip
import os
import posixpath
import tarfile
import tempfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from services.common.errors import ImageError
from services.engine.budget import BudgetExceeded, ScanBudget
from services.engine.image.blobio import CHUNK_SIZE, BlobRange, read_range
from services.oci.digest import MAX_METADATA_BYTES

__all__ = ["TarIndex"]

_MAX_LINK_HOPS = 16


def _normalise(name: str) -> str:
    name = posixpath.normpath("/" + name).lstrip("/")
    return "" if name == "." else name


def _inflate(path: Path, what: str, budget: ScanBudget) -> Path:
    """``path`` (a gzipped tar) inflated to a temporary file; the caller removes it."""
    limit = min(budget.temp_disk_bytes_max, budget.image_bytes_max)
    fd, name = tempfile.mkstemp(prefix="assay-archive-", suffix=".tar")
    try:
        with os.fdopen(fd, "wb") as out, gzip.open(path, "rb") as raw:
            total = 0
            while chunk := raw.read(CHUNK_SIZE):
                total += len(chunk)
                if total > limit:
                    budget_name = (
                        "temp_disk_bytes_max" if limit == budget.temp_disk_bytes_max else "image_bytes_max"
                    )
                    raise BudgetExceeded(budget_name, limit, f"{what}: inflating the gzipped archive")
                out.write(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        os.unlink(name)
        raise ImageError(f"{what}: cannot inflate the gzipped archive: {exc}") from exc
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def _members(path: Path, what: str, budget: ScanBudget) -> list[tarfile.TarInfo]:
    members: list[tarfile.TarInfo] = []
    with path.open("rb") as raw, tarfile.open(fileobj=raw, mode="r:") as tar:
        while (member := tar.next()) is not None:
            members.append(member)
            if len(members) > budget.entries_per_layer_max:
                raise BudgetExceeded("entries_per_layer_max", budget.entries_per_layer_max, what)
    return members


class TarIndex:
    """Member name to ``TarInfo`` for one tar file, with links resolved on lookup.

    ``inflated`` is a temporary file holding the tar when ``path`` was gzipped; ``close``
    removes it.
    """

    def __init__(
        self, path: Path, what: str, members: Iterable[tarfile.TarInfo], inflated: Path | None = None
    ) -> None:
        self.path = path
        self.what = what
        self._tar = inflated or path
        self._inflated = inflated
        self._members: dict[str, tarfile.TarInfo] = {}
        for member in members:
            self._members[_normalise(member.name)] = member

    @classmethod
    def build(cls, path: Path, what: str, budget: ScanBudget = ScanBudget()) -> TarIndex:
        """Scan ``path`` once (blocking). ``ImageError`` naming ``what`` if it is not a tar."""
        inflated: Path | None = None
        try:
            with path.open("rb") as f:
                gzipped = f.read(2) == b"\x1f\x8b"
            inflated = _inflate(path, what, budget) if gzipped else None
            members = _members(inflated or path, what, budget)
        except (OSError, EOFError, tarfile.TarError) as exc:
            if inflated is not None:
                inflated.unlink(missing_ok=True)
            raise ImageError(f"{what}: cannot read the archive: {exc}") from exc
        except BaseException:
            if inflated is not None:
                inflated.unlink(missing_ok=True)
            raise
        return cls(path, what, members, inflated)

    def close(self) -> None:
        """Remove the inflated copy, if any (idempotent)."""
        inflated, self._inflated = self._inflated, None
        if inflated is not None:
            inflated.unlink(missing_ok=True)

    def _open(self) -> BinaryIO:
        return self._tar.open("rb")

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
