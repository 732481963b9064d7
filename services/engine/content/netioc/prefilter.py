"""Which files could hold a listed indicator, decided in one Hyperscan pass over their bytes.

One automaton is compiled per feed index: every listed domain and every listed URL's host as a
caseless literal, plus the shape of an IPv4 address (and of an IPv6 one) when the feeds list
networks of that family. A file with no hit costs one scan at memory speed and no Python regex;
a hit is checked where it lies (the host-name or address token around it, looked up in the
feeds) and only a file with a confirmed candidate goes to the analyzer's exact scan, which then
finds what the old scan-everything analyzer found: the filter may let through more than that
scan reports, never less.

Files that cannot carry an indicator as text are not scanned at all: compressed data and
images (their bytes are not the text they hold). Binaries (executables, libraries) are scanned
as they are: a listed host inside a binary is the literal string in its data, so no separate
strings extraction is needed; the exact scan then reports only URLs from a binary.
"""

from __future__ import annotations

import importlib.metadata
import re
import threading
from pathlib import Path
from typing import Any

import hyperscan

from services.common.files import write_atomic
from services.engine.content.netioc.feeds import FeedIndex
from services.engine.content.netioc.patterns import IPV4, IPV6

# compressed streams and images: scanning their bytes finds nothing the file says
SKIP_MAGIC: tuple[bytes, ...] = (
    b"\x1f\x8b",  # gzip
    b"\x28\xb5\x2f\xfd",  # zstd
    b"\xfd7zXZ\x00",  # xz
    b"BZh",  # bzip2
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"GIF87a",
    b"GIF89a",
)
_V4_BYTES = frozenset(b"0123456789.")
_V6_BYTES = frozenset(b"0123456789abcdefABCDEF:.")
_HOST_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-")
# the shapes end early (the token around a hit is read from the data), so each address reports once
_IPV4_SHAPE = rb"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d"
_IPV6_SHAPE = rb"[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:"
_V4, _V6 = 0, 1  # expression ids below the literals'
_SPAN = 253  # longest host name; bounds how far a token is extended around a hit
_ADDRESS_SPAN = 48  # an IPv6 address is at most 45 characters
_HS_VERSION = importlib.metadata.version("hyperscan")  # a compiled automaton is only good for its build


def _token(data: bytes, start: int, end: int, allowed: frozenset[int]) -> tuple[int, int]:
    """The run of ``allowed`` bytes around ``data[start:end]``, at most ``_SPAN`` bytes each way."""
    left, right = start, end
    floor, ceiling = max(0, start - _SPAN), min(len(data), end + _SPAN)
    while left > floor and data[left - 1] in allowed:
        left -= 1
    while right < ceiling and data[right] in allowed:
        right += 1
    return left, right


def _literals(feeds: FeedIndex) -> list[bytes]:
    return sorted({d.encode() for d in feeds.domains} | {h.encode() for h in feeds.hosts_of_urls})


def _compiled_path(feeds: FeedIndex) -> Path | None:
    """Where the compiled automaton of a stored feed index is kept, beside the store."""
    if feeds.store is None:
        return None
    return feeds.store.parent / f".{feeds.store.name}.{feeds.digest}.hs{_HS_VERSION}"


def _load_compiled(feeds: FeedIndex) -> Any:
    """The automaton ``assay feeds update`` compiled for exactly these feeds, if it is there.

    Compiling 20,000 literals takes seconds and about 40 MiB at its peak; loading takes
    milliseconds and the 1-2 MiB of the database, so scans load what the update compiled.
    """
    path = _compiled_path(feeds)
    if path is None or not path.is_file():
        return None
    try:
        return hyperscan.loadb(path.read_bytes(), hyperscan.HS_MODE_BLOCK)
    except (OSError, hyperscan.error):
        return None  # another Hyperscan build or a damaged file: compile instead


def _store_compiled(feeds: FeedIndex, db: Any) -> None:
    path = _compiled_path(feeds)
    if path is None or feeds.store is None or db is None:
        return
    try:
        write_atomic(path, hyperscan.dumpb(db), prefix=".hs-")
        for old in path.parent.glob(f".{feeds.store.name}.*.hs*"):  # automata of earlier feed sets
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        return  # a read-only store: each process compiles for itself


class IndicatorPrefilter:
    """``accept(path, data)`` for the netioc request: could ``data`` hold a listed indicator?

    Scratch space is per thread: an engine walks several images at once.
    """

    def __init__(self, feeds: FeedIndex) -> None:
        self.feeds = feeds
        self._db: Any = _load_compiled(feeds)
        if self._db is None:
            self._db = self._compile(feeds)
            _store_compiled(feeds, self._db)
        self._lengths = [0, 0, *(len(lit) for lit in _literals(feeds))]
        self._local = threading.local()

    @staticmethod
    def _compile(feeds: FeedIndex) -> Any:
        literals = _literals(feeds)
        expressions: list[bytes] = []
        ids: list[int] = []
        flags: list[int] = []
        v4, v6 = feeds.has_networks(4), feeds.has_networks(6)
        if v4:
            expressions.append(_IPV4_SHAPE)
            ids.append(_V4)
            flags.append(0)
        if v6:
            expressions.append(_IPV6_SHAPE)
            ids.append(_V6)
            flags.append(0)
        for n, literal in enumerate(literals, start=2):
            expressions.append(re.escape(literal))
            ids.append(n)
            flags.append(hyperscan.HS_FLAG_CASELESS)
        if not expressions:
            return None
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(expressions=expressions, ids=ids, elements=len(expressions), flags=flags)
        return db

    def __call__(self, path: str, data: bytes) -> bool:
        if self._db is None or data.startswith(SKIP_MAGIC):
            return False
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._db)
        found = False
        seen: set[tuple[int, int]] = set()  # host-name tokens already checked

        def on_match(eid: int, start: int, end: int, flags: int, ctx: object) -> bool:
            nonlocal found
            if eid in (_V4, _V6):
                found = self._address(data, end, IPV4 if eid == _V4 else IPV6)
            else:
                left, right = _token(data, end - self._lengths[eid], end, _HOST_BYTES)
                if (left, right) in seen:
                    return False
                seen.add((left, right))
                found = self._host(data[left:right]) or self._host(data[left:end])
            return found  # True stops the scan: one confirmed candidate is enough

        try:
            self._db.scan(data, match_event_handler=on_match, scratch=scratch)
        except hyperscan.ScanTerminated:
            return True
        return found

    def _host(self, token: bytes) -> bool:
        host = token.decode("ascii").strip(".-").lower()
        return bool(host) and (host in self.feeds.hosts_of_urls or self.feeds.domain(host) is not None)

    def _address(self, data: bytes, end: int, shape: re.Pattern[bytes]) -> bool:
        """Whether an address the exact scan would read near ``end`` is listed: as its regex reads
        it (over a window; lookbehinds still see the bytes before it), or as a URL's host reads it
        (the address token, dots and colons trimmed: ``http://203.0.113.7.``)."""
        window_end = min(len(data), end + _ADDRESS_SPAN)
        for m in shape.finditer(data, max(0, end - _ADDRESS_SPAN), window_end):
            if self.feeds.address(m.group().decode("ascii")) is not None:
                return True
        left, right = _token(data, end - 1, end, _V4_BYTES if shape is IPV4 else _V6_BYTES)
        return self.feeds.address(data[left:right].decode("ascii").strip(".:")) is not None


__all__ = ["SKIP_MAGIC", "IndicatorPrefilter"]
