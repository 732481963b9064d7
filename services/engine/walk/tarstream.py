"""A forward-only tar reader for the walk: one small object per member, nothing kept between members.

``tarfile`` in stream mode costs tens of microseconds of Python per member (``TarInfo.frombuf``,
its number and string fields, a re-joined buffer per read) and keeps every ``TarInfo`` it has
read. This reader parses the 512-byte header with the same rules (ustar prefixes, GNU long
names and links, PAX ``path``/``linkpath``/``size`` records, base-256 numbers, both checksum
conventions, the old trailing-slash directory) and hands out each member once; its data is
read by the caller (``data``) or skipped, with padding, before the next header.

It ends where ``tarfile`` ends: at a zero block, at the end of the stream between members, or
at a header whose checksum is wrong after the first. Sparse members (GNU ``S`` or PAX
``GNU.sparse.*``, which no image builder writes) are reported with ``sparse`` set and their
data is not handed out. Names are decoded as UTF-8 with surrogate escapes, as tarfile does.
"""

from __future__ import annotations

from collections.abc import Iterator
from zlib import adler32

from services.engine.walk.deliver import Readable

BLOCK = 512
_ZERO_BLOCK = bytes(BLOCK)
_SKIP_CHUNK = 1 << 20
_MERGE_MAX = 64 * 1024  # up to this many unread bytes of a member are read along with the next header
_REGULAR = frozenset(b"0\x007")
_SPARSE = ord("S")
DATA_TYPES = _REGULAR | {_SPARSE}  # members whose data is a regular file's content (``isreg``)
HARD_LINK, SYMLINK, DIRECTORY = 0x31, 0x32, 0x35  # "1", "2", "5"
_PAX = frozenset(b"xgX")
_LONGNAME, _LONGLINK = ord("L"), ord("K")
_KNOWN = frozenset(b"0\x0071234567LKSxgX")
_META_MAX = 16 << 20  # a PAX record or GNU long name larger than this is not a name


class TarFormatError(Exception):
    """The stream is not a readable tar (message as tarfile words it)."""


class TarMember:
    """One member's header fields the walk needs."""

    __slots__ = ("linkname", "mode", "name", "size", "sparse", "type")

    def __init__(self, name: str, linkname: str, size: int, mode: int, type_: int, sparse: bool) -> None:
        self.name = name
        self.linkname = linkname
        self.size = size
        self.mode = mode
        self.type = type_
        self.sparse = sparse

    def isreg(self) -> bool:
        return self.type in DATA_TYPES

    def islnk(self) -> bool:
        return self.type == HARD_LINK

    def issym(self) -> bool:
        return self.type == SYMLINK

    def isdir(self) -> bool:
        return self.type == DIRECTORY


def _text(raw: bytes) -> str:
    end = raw.find(b"\0")
    return (raw if end < 0 else raw[:end]).decode("utf-8", "surrogateescape")


def _number(raw: bytes) -> int:
    """tarfile's ``nti``: base-256 when the first byte says so, else octal digits."""
    if raw[0] in (0o200, 0o377):
        value = 0
        for byte in raw[1:]:
            value = (value << 8) + byte
        return value - (256 ** (len(raw) - 1)) if raw[0] == 0o377 else value
    try:
        return int(raw.split(b"\0", 1)[0].strip() or b"0", 8)
    except ValueError as exc:
        raise TarFormatError("invalid header") from exc


def _byte_sum(block: bytes) -> int:
    """The sum of a 512-byte block's bytes, in C: adler32's low half is 1 + the sum of its input
    modulo 65521, and 256 bytes sum to at most 65,280, so each half's sum is exact."""
    return (adler32(block[:256]) & 0xFFFF) + (adler32(block[256:]) & 0xFFFF) - 2


def _field(block: bytes, start: int, end: int) -> int:
    """``_number(block[start:end])``, without its splitting when the field is octal digits and a
    NUL, as every writer puts them (anything else takes the general path)."""
    if block[end - 1] == 0:
        try:
            return int(block[start : end - 1], 8)
        except ValueError:
            pass
    return _number(block[start:end])


def _checksum_ok(block: bytes) -> bool:
    field = block[148:156]
    unsigned = _byte_sum(block) - sum(field) + 256  # the checksum field counts as 8 spaces
    if field == b"%06o\0 " % unsigned:  # as tarfile, GNU tar and Go write it
        return True
    try:
        stored = _number(field)
    except TarFormatError:
        return False
    if stored == unsigned:
        return True
    signed = 256 + sum(b - 256 if b > 127 else b for b in block[:148] + block[156:])
    return stored == signed


class TarStream:
    """Members of a tar stream, in order; ``data(member)`` reads the current member's content."""

    def __init__(self, source: Readable) -> None:
        self._source = source
        self._left = 0  # unread data bytes of the current member
        self._pad = 0  # padding after them
        self.offset = 0  # members read so far (0: the first header decides "not a tar")
        self.complete = True  # False while a member's data is still owed

    def _read_exact(self, size: int) -> bytes:
        data = self._source.read(size)
        while len(data) < size:
            more = self._source.read(size - len(data))
            if not more:
                break
            data += more
        return data

    def read(self, size: int = -1, /) -> bytes:
        """Read the current member's data (at most what is left of it)."""
        want = self._left if size < 0 else min(size, self._left)
        if want <= 0:
            return b""
        data = self._read_exact(want)
        if len(data) != want:
            raise TarFormatError("unexpected end of data")
        self._left -= want
        return data

    def _finish_member(self) -> bool:
        """Skip what the caller left of the member and its padding; False at a clean early end."""
        while self._left:
            if not self.read(min(self._left, _SKIP_CHUNK)):
                break
        if self._pad:
            pad, self._pad = self._pad, 0
            # a writer may stop right after the last file's data (umoci 0.4.7): that is an end
            return len(self._read_exact(pad)) == pad
        return True

    def _data_block(self, size: int) -> bytes:
        if size > _META_MAX:
            raise TarFormatError(f"extended header of {size} bytes")
        raw = self._read_exact(size + (-size % BLOCK))
        if len(raw) < size:
            raise TarFormatError("unexpected end of data")
        return raw[:size]

    def members(self) -> Iterator[TarMember]:
        """Every member, in order; each one's data must be read (or is skipped) before the next."""
        pax_global: dict[str, str] = {}
        while True:
            left, pad = self._left, self._pad
            if left > _MERGE_MAX:  # a large member's rest is skipped in pieces
                if not self._finish_member():
                    return
                left = pad = 0
            self._left = self._pad = 0
            member = self._next(pax_global, left, pad)  # a small rest is read with the next header
            if member is None:
                return
            self.offset += 1
            type_ = member.type
            has_data = type_ in DATA_TYPES or type_ not in _KNOWN
            self._left = member.size if has_data else 0
            self._pad = -self._left % BLOCK
            if member.sparse:  # stored data is not the file's content: never handed out
                self._finish_member()
            yield member

    def _next(self, pax_global: dict[str, str], left: int = 0, pad: int = 0) -> TarMember | None:
        """The next member's header, after skipping ``left`` bytes of the previous member's data and
        ``pad`` of padding (one read for all three: most members are small)."""
        pax: dict[str, str] = {}
        long_name: str | None = None
        long_link: str | None = None
        while True:
            skip = left + pad
            raw = self._read_exact(skip + BLOCK)
            if len(raw) < skip + BLOCK:
                if len(raw) < left:
                    raise TarFormatError("unexpected end of data")
                if self.offset == 0:
                    raise TarFormatError("empty file" if not raw else "truncated header")
                # the stream ends between members (or right after the last file's data, without
                # its padding: umoci 0.4.7 writes that)
                return None
            block = raw[skip:] if skip else raw
            left = pad = 0
            if block == _ZERO_BLOCK:
                return None  # end of archive
            if not _checksum_ok(block):
                if self.offset == 0:
                    raise TarFormatError("bad checksum")
                return None  # tarfile, too, ends a stream at a later bad header
            type_ = block[156]
            size = _field(block, 124, 136)
            if size < 0:
                raise TarFormatError("invalid header: negative size")
            if type_ in _PAX:
                records = _pax_records(self._data_block(size))
                (pax_global if type_ == ord("g") else pax).update(records)
                continue
            if type_ == _LONGNAME:
                long_name = _text(self._data_block(size))
                continue
            if type_ == _LONGLINK:
                long_link = _text(self._data_block(size))
                continue
            extended = {**pax_global, **pax} if pax_global or pax else None
            return self._member(block, type_, size, extended, long_name, long_link)

    @staticmethod
    def _member(
        block: bytes,
        type_: int,
        size: int,
        pax: dict[str, str] | None,
        long_name: str | None,
        long_link: str | None,
    ) -> TarMember:
        name = _text(block[0:100])
        if block[345] and block[257:265] == b"ustar\x0000":  # a ustar name prefix, when there is one
            prefix = _text(block[345:500])
            if prefix:
                name = prefix + "/" + name
        if type_ == 0 and name.endswith("/"):
            type_ = DIRECTORY
        name = long_name if long_name is not None else name
        linkname = _text(block[157:257]) if block[157] else ""
        if long_link is not None:
            linkname = long_link
        mode = _field(block, 100, 108)
        if pax is None:
            return TarMember(name, linkname, size, mode, type_, type_ == _SPARSE)
        name = pax.get("path", name)
        linkname = pax.get("linkpath", linkname)
        if "size" in pax:
            try:
                size = int(pax["size"])
            except ValueError as exc:
                raise TarFormatError("invalid header") from exc
        if size < 0:
            raise TarFormatError("invalid header: negative size")
        sparse = type_ == _SPARSE or any(k.startswith("GNU.sparse.") for k in pax)
        return TarMember(name, linkname, size, mode, type_, sparse)


def _pax_records(data: bytes) -> dict[str, str]:
    """``<length> <key>=<value>\\n`` records; values are UTF-8 (surrogate-escaped when they are not)."""
    out: dict[str, str] = {}
    pos = 0
    while pos < len(data) and data[pos] != 0:
        space = data.find(b" ", pos)
        if space < 0:
            raise TarFormatError("invalid header")
        try:
            length = int(data[pos:space])
        except ValueError as exc:
            raise TarFormatError("invalid header") from exc
        if length <= 0 or pos + length > len(data):
            raise TarFormatError("invalid header")
        key, _, value = data[space + 1 : pos + length - 1].partition(b"=")
        out[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return out
