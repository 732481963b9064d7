"""Image paths as the walk sees them: normalised, made valid text, and remembered compactly.

**Names that are not UTF-8.** A tar member or a ``dir:`` file may be named with any bytes. The
walk decodes each name once, here: valid UTF-8 is kept as is, and every byte that is not part of
valid UTF-8 becomes the four characters ``\\xNN`` (Python's ``backslashreplace``). A literal
backslash is kept as it is, so the escaped form is readable but can collide with a name that
really contains ``\\xNN``; such a pair is treated as one path, which only affects which copy is
visible. Every ``str`` downstream (requests, hits, reports, events on the wire) is therefore
valid UTF-8.

**Which paths upper layers hide.** The walk goes top-down and remembers, per layer, the paths
it must hide below: requested files present above (``present``), whiteouts, opaque directories
and symlinks. ``present`` grows with the number of requested files, which is every file when an
analyzer asks for ``**``, so it keeps an 8-byte keyed BLAKE2b digest per path (a Python int)
instead of the path: roughly 60 bytes a file rather than 150. The key is random per walk, so a
crafted image cannot aim a collision at a path; an accidental one is a 2**-64 event per pair.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"


def text_name(name: str) -> str:
    """``name`` as valid UTF-8 text: undecodable bytes (surrogate escapes) become ``\\xNN``."""
    if name.isascii():
        return name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return name


def normalize(name: str) -> str:
    """A tar member name as an image path without leading ``./`` or ``/`` or trailing ``/``."""
    while name.startswith("./"):
        name = name[2:]
    return name.strip("/")


def ancestors(path: str) -> Iterator[str]:
    """Proper ancestors of ``a/b/c``: ``a``, ``a/b``."""
    end = path.find("/")
    while end != -1:
        yield path[:end]
        end = path.find("/", end + 1)


class PathDigests:
    """A set of paths kept as 8-byte keyed digests (see the module docstring)."""

    __slots__ = ("_items", "_key")

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._items: set[int] = set()

    def _digest(self, path: str) -> int:
        raw = hashlib.blake2b(path.encode("utf-8", "surrogateescape"), digest_size=8, key=self._key)
        return int.from_bytes(raw.digest(), "little")

    def add(self, path: str) -> None:
        self._items.add(self._digest(path))

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and bool(self._items) and self._digest(path) in self._items

    def __len__(self) -> int:
        return len(self._items)

    def update(self, other: PathDigests) -> None:
        self._items |= other._items


class Upper:
    """What the layers above the one being walked have said about paths."""

    def __init__(self) -> None:
        self.key = os.urandom(16)
        self.present = PathDigests(self.key)  # requested files, directories and symlinks that exist above
        self.deleted: set[str] = set()  # whiteouts: the path and all below it are gone
        self.opaque: set[str] = set()  # directories whose lower contents are gone
        self.symlinks: set[str] = set()  # a symlink above hides a lower directory of that name
        self.gone: set[str] = set()  # the three above together: what hides everything below it

    def hides(self, path: str) -> bool:
        if path in self.deleted or path in self.present:
            return True
        gone = self.gone
        if "/" not in path or not gone:
            return False
        return any(anc in gone for anc in ancestors(path))


class LayerState:
    """What one layer adds to ``Upper``, merged only after the layer ends (a layer does not hide its
    own files). ``record=False`` for the base layer, walked last: nothing below needs it."""

    def __init__(self, upper: Upper, record: bool = True) -> None:
        self.record = record
        self.present = PathDigests(upper.key)
        self.deleted: set[str] = set()
        self.opaque: set[str] = set()
        self.symlinks: set[str] = set()

    def merge_into(self, upper: Upper) -> None:
        upper.present.update(self.present)
        upper.deleted |= self.deleted
        upper.opaque |= self.opaque
        upper.symlinks |= self.symlinks
        upper.gone |= self.deleted | self.opaque | self.symlinks
