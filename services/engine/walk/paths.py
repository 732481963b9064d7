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
instead of the path: roughly 60 bytes a file rather than 150. The digest is the ``str`` hash
itself (SipHash, keyed by the interpreter's random per-process secret, and cached on the string
after the request lookup has computed it) unless the hash seed is fixed (``PYTHONHASHSEED``), in
which case it is a BLAKE2b digest keyed by a random key per walk. Either way a crafted image
cannot aim a collision at a path; an accidental one is a 2**-64 event per pair.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable

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


def _secret_str_hash() -> bool:
    """Whether ``hash(str)`` is keyed by a secret chosen at random when the interpreter started."""
    return bool(sys.flags.hash_randomization) and os.environ.get("PYTHONHASHSEED", "random") == "random"


class PathDigests:
    """A set of paths kept as 8-byte keyed digests (see the module docstring)."""

    __slots__ = ("_items", "_key", "digest")

    def __init__(self, key: bytes, fast: bool = False) -> None:
        self._key = key
        self._items: set[int] = set()
        # ``fast``: the str hash is secret-keyed (see ``Upper``), so it is the digest
        self.digest: Callable[[str], int] = hash if fast else self._blake2b

    def _blake2b(self, path: str) -> int:
        raw = hashlib.blake2b(path.encode("utf-8", "surrogateescape"), digest_size=8, key=self._key)
        return int.from_bytes(raw.digest(), "little")

    def add(self, path: str) -> None:
        self._items.add(self.digest(path))

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self.has(path)

    def has(self, path: str) -> bool:
        items = self._items
        return bool(items) and self.digest(path) in items

    def __len__(self) -> int:
        return len(self._items)

    def update(self, other: PathDigests) -> None:
        self._items |= other._items


class Upper:
    """What the layers above the one being walked have said about paths."""

    def __init__(self) -> None:
        self.key = os.urandom(16)
        self.fast = _secret_str_hash()
        # requested files, directories and symlinks that exist above
        self.present = PathDigests(self.key, self.fast)
        self.deleted: set[str] = set()  # whiteouts: the path and all below it are gone
        self.opaque: set[str] = set()  # directories whose lower contents are gone
        self.symlinks: set[str] = set()  # a symlink above hides a lower directory of that name
        self.gone: set[str] = set()  # the three above together: what hides everything below it
        self.gone_tops: set[str] = set()  # their first components: most paths need no ancestor test

    def hides(self, path: str) -> bool:
        if path in self.deleted or self.present.has(path):
            return True
        slash = path.find("/")
        if slash < 0 or path[:slash] not in self.gone_tops:
            return False
        gone = self.gone
        while slash != -1:  # every proper ancestor: ``a``, ``a/b`` for ``a/b/c``
            if path[:slash] in gone:
                return True
            slash = path.find("/", slash + 1)
        return False


class LayerState:
    """What one layer adds to ``Upper``, merged only after the layer ends (a layer does not hide its
    own files). ``record=False`` for the base layer, walked last: nothing below needs it."""

    def __init__(self, upper: Upper, record: bool = True) -> None:
        self.record = record
        self.present = PathDigests(upper.key, upper.fast)
        self.deleted: set[str] = set()
        self.opaque: set[str] = set()
        self.symlinks: set[str] = set()

    def merge_into(self, upper: Upper) -> None:
        upper.present.update(self.present)
        upper.deleted |= self.deleted
        upper.opaque |= self.opaque
        upper.symlinks |= self.symlinks
        added = self.deleted | self.opaque | self.symlinks
        upper.gone |= added
        upper.gone_tops.update(path.split("/", 1)[0] for path in added)
