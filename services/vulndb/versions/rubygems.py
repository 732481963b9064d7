"""RubyGems version ordering, as ``Gem::Version#<=>`` does it.

A version is dot-separated segments of digits or letters (``1.2.0.rc.1``); a ``-`` starts
a SemVer-style pre-release and reads as ``.pre.`` (``1.0.0-1`` is ``1.0.0.pre.1``). Any
segment with letters makes the version a pre-release. Comparison works on the
"canonical" segments: the numeric segments before the first word and the segments after
it, each with trailing zeros dropped, then compared pairwise with a missing segment as
0; a word sorts below a number, words compare by bytes, numbers numerically. So
``1.0 == 1.0.0``, ``1.0.a < 1.0`` and ``0.beta.1 == 0.0.beta.1``. An empty version is
``0``. See rubygems ``lib/rubygems/version.rb``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from services.vulndb.versions.base import InvalidVersion

_VALID = re.compile(r"^[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$")
_SEGMENT = re.compile(r"[0-9]+|[a-zA-Z]+")
_WS = " \t\n\v\f\r\0"

Segment = int | str


def _trim_zeros(segments: list[Segment]) -> list[Segment]:
    end = len(segments)
    while end and segments[end - 1] == 0:
        end -= 1
    return segments[:end]


@lru_cache(maxsize=65536)
def parse(version: str) -> tuple[Segment, ...]:
    """The canonical segments of a gem version; raises ``InvalidVersion`` for a malformed one."""
    text = version.strip(_WS)
    if not text:
        return ()
    if not _VALID.match(text):
        raise InvalidVersion("rubygems", version, "malformed version number string")
    text = text.replace("-", ".pre.")
    segments: list[Segment] = [int(s) if s.isdigit() else s for s in _SEGMENT.findall(text)]
    first_word = next((i for i, s in enumerate(segments) if isinstance(s, str)), len(segments))
    return tuple(_trim_zeros(segments[:first_word]) + _trim_zeros(segments[first_word:]))


def compare(a: str, b: str) -> int:
    """Order two gem versions: -1, 0 or 1 (``Gem::Version#<=>``)."""
    sa, sb = parse(a), parse(b)
    if sa == sb:
        return 0
    for k in range(max(len(sa), len(sb))):
        x = sa[k] if k < len(sa) else 0
        y = sb[k] if k < len(sb) else 0
        if x == y:
            continue
        if isinstance(x, str) and isinstance(y, int):
            return -1
        if isinstance(x, int) and isinstance(y, str):
            return 1
        return -1 if x < y else 1  # type: ignore[operator]
    return 0
