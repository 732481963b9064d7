"""Streaming digest and size checks, and the read limits every OCI reader shares."""

from __future__ import annotations

import hashlib

from services.common.errors import ImageError, LayerError

__all__ = ["CHUNK_SIZE", "MAX_METADATA_BYTES", "DigestVerifier"]

CHUNK_SIZE = 1 << 20
"""The largest chunk any source yields (1 MiB)."""

MAX_METADATA_BYTES = 16 << 20
"""Manifests, indexes and configs larger than this are refused rather than read into memory."""


class DigestVerifier:
    """Hashes a stream and checks it against an expected ``algorithm:hex`` digest and size."""

    def __init__(self, expected: str, size: int | None = None) -> None:
        algorithm, _, self._hex = expected.partition(":")
        if algorithm not in ("sha256", "sha384", "sha512") or not self._hex:
            raise ImageError(f"unsupported digest {expected!r}")
        self.expected = expected
        self._size = size
        self._hash = hashlib.new(algorithm)
        self.count = 0

    def update(self, chunk: bytes) -> None:
        """Feed the next chunk."""
        self._hash.update(chunk)
        self.count += len(chunk)

    def check(self, what: str, error: type[Exception] = LayerError) -> None:
        """Raise ``error`` naming ``what`` unless the bytes seen match the digest (and size)."""
        if self._size is not None and self.count != self._size:
            raise error(f"{what}: size mismatch: expected {self._size} bytes, read {self.count}")
        actual = self._hash.hexdigest()
        if actual != self._hex:
            algorithm = self.expected.split(":")[0]
            raise error(f"{what}: digest mismatch: expected {self.expected}, got {algorithm}:{actual}")
