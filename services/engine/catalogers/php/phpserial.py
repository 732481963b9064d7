"""A reader for the subset of PHP's ``serialize()`` format that PEAR registry files use.

Arrays (``a:N:{key;value;...}``), strings (``s:LEN:"..."``, LEN in bytes), integers,
floats, booleans and null. Objects and references are not in these files and are refused.
Decoding never executes anything and stops at the first malformed token with ``ValueError``.
"""

from __future__ import annotations

import re
from typing import Any

_NUM = re.compile(rb"([idb]):([^;]*);")
_MAX_DEPTH = 32


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def value(self, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise ValueError("arrays nested too deeply")
        kind = self.data[self.pos : self.pos + 2]
        if kind == b"N;":
            self.pos += 2
            return None
        if kind == b"s:":
            return self._string()
        if kind == b"a:":
            return self._array(depth)
        m = _NUM.match(self.data, self.pos)
        if m is None:
            raise ValueError(f"unexpected token at byte {self.pos}")
        self.pos = m.end()
        text = m[2].decode("ascii", "replace")
        if m[1] == b"b":
            return text == "1"
        return int(text) if m[1] == b"i" else float(text)

    def _string(self) -> str:
        colon = self.data.index(b":", self.pos + 2)
        length = int(self.data[self.pos + 2 : colon])
        start = colon + 2  # past ':"'
        end = start + length
        if length < 0 or self.data[end : end + 2] != b'";':
            raise ValueError(f"string at byte {self.pos} does not end where its length says")
        self.pos = end + 2
        return self.data[start:end].decode("utf-8", "replace")

    def _array(self, depth: int) -> dict[Any, Any]:
        colon = self.data.index(b":", self.pos + 2)
        count = int(self.data[self.pos + 2 : colon])
        if self.data[colon : colon + 2] != b":{" or count < 0:
            raise ValueError(f"array at byte {self.pos} has no body")
        self.pos = colon + 2
        out: dict[Any, Any] = {}
        for _ in range(count):
            key = self.value(depth + 1)
            out[key] = self.value(depth + 1)
        if self.data[self.pos : self.pos + 1] != b"}":
            raise ValueError(f"array ending at byte {self.pos} is not closed")
        self.pos += 1
        return out


def unserialize(data: bytes) -> Any:
    """The value ``data`` serialises; ``ValueError`` when it is not in the supported subset."""
    try:
        return _Reader(data.strip()).value()
    except (IndexError, KeyError) as exc:
        raise ValueError(f"truncated or unsupported serialized data: {exc}") from exc
