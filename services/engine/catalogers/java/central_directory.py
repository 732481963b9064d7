"""The size of a zip's central directory, read from its end records before ``zipfile`` loads it.

``zipfile`` reads the whole central directory into memory (a ``ZipInfo`` of about 500 bytes
per entry), so a 1 GiB archive made of directory entries would cost gigabytes before any
entry is read. The end-of-central-directory record (APPNOTE 4.3.16: signature ``PK\\x05\\x06``,
directory size at byte 12) and, for zip64, the zip64 end record just before its locator
(4.3.14/4.3.15: directory size at byte 40) state the size up front.
"""

from __future__ import annotations

import io
import struct
from typing import IO

from services.engine.budget import BudgetExceeded

_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_MAX_COMMENT = 0xFFFF
_LOCATOR = b"PK\x06\x07"
_LOCATOR_SIZE = 20
_ZIP64_EOCD = b"PK\x06\x06"
_ZIP64_EOCD_SIZE = 56


def central_directory_size(stream: IO[bytes]) -> int | None:
    """The directory size the archive's end records state, or None if they cannot be found."""
    size = stream.seek(0, io.SEEK_END)
    tail_start = max(0, size - _EOCD_SIZE - _MAX_COMMENT - _LOCATOR_SIZE - _ZIP64_EOCD_SIZE)
    stream.seek(tail_start)
    tail = stream.read(size - tail_start)
    stream.seek(0)
    at = tail.rfind(_EOCD)
    if at < 0 or at + _EOCD_SIZE > len(tail):
        return None
    entries, cd_size = struct.unpack_from("<HI", tail, at + 10)
    if entries != 0xFFFF and cd_size != 0xFFFFFFFF:
        return int(cd_size)
    locator = at - _LOCATOR_SIZE
    record = locator - _ZIP64_EOCD_SIZE
    if record < 0 or tail[locator : locator + 4] != _LOCATOR or tail[record : record + 4] != _ZIP64_EOCD:
        return int(cd_size)
    return int(struct.unpack_from("<Q", tail, record + 40)[0])


def central_directory_problem(stream: IO[bytes], limit: int) -> str | None:
    """Why the archive's directory is not read (larger than ``limit`` bytes), or None."""
    size = central_directory_size(stream)
    if size is None or size <= limit:
        return None
    return str(BudgetExceeded("parsed_file_bytes_max", limit, f"central directory of {size} bytes"))
