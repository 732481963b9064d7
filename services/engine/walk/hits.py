"""What the walk hands to analyzers and catalogers: hits, skipped files, and the callbacks."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO

import msgspec


class FileHit(msgspec.Struct, frozen=True, kw_only=True):
    """One requested file as the walk found it."""

    request: str
    path: str
    layer_index: int  # 0 is the base layer
    visible: bool  # False: a copy an upper layer replaced or deleted
    data: bytes  # empty for ``spool`` and ``metadata_only`` requests
    mode: int = 0
    file: IO[bytes] | None = None  # ``spool`` requests: seekable, valid only during the callback


class Skipped(msgspec.Struct, frozen=True, kw_only=True):
    """A requested file the walk could not hand over (too large, a hard link it cannot follow)."""

    request: str
    path: str
    layer_index: int
    reason: str


OnHit = Callable[[FileHit], None]
OnSkip = Callable[[Skipped], None]
# Called as a layer's walk starts with its index and a test of whether the layers above hide a path.
OnLayer = Callable[[int, Callable[[str], bool]], None]
# Called once a layer's uncompressed content has been hashed to the end and matched its diff_id.
OnVerified = Callable[[int, str], None]
