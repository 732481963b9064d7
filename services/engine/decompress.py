"""Streaming decompression of layer blobs, sniffed by magic bytes (media types are often wrong)."""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from typing import IO, cast

import zstandard

from services.common.errors import LayerError

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class ChunkStream(io.RawIOBase):
    """A read-only file over an iterator of byte chunks (the blob as it arrives)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = b""
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buf and not self._eof:
            try:
                self._buf = next(self._chunks)
            except StopIteration:
                self._eof = True
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def peek(self, n: int) -> bytes:
        """Up to ``n`` bytes without consuming them."""
        while len(self._buf) < n and not self._eof:
            try:
                self._buf += next(self._chunks)
            except StopIteration:
                self._eof = True
        return self._buf[:n]


class _GzipReader(io.RawIOBase):
    """Concatenated-member gzip decoding that notices a stream cut short."""

    def __init__(self, raw: ChunkStream) -> None:
        self._raw = raw
        self._d = zlib.decompressobj(wbits=47)
        self._out = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._out and not self._done:
            chunk = self._raw.read(1 << 20)
            if not chunk:
                if not self._d.eof:
                    raise LayerError("truncated gzip stream: the layer ends before the compressed data does")
                self._done = True
                break
            try:
                self._out = self._d.decompress(chunk)
            except zlib.error as exc:
                raise LayerError(f"corrupt gzip stream: {exc}") from exc
            while self._d.eof and self._d.unused_data:
                rest = self._d.unused_data
                self._d = zlib.decompressobj(wbits=47)
                try:
                    self._out += self._d.decompress(rest)
                except zlib.error as exc:
                    raise LayerError(f"corrupt gzip stream: {exc}") from exc
        n = min(len(b), len(self._out))
        b[:n] = self._out[:n]
        self._out = self._out[n:]
        return n


def decompressed(raw: ChunkStream) -> io.BufferedReader:
    """Wrap a blob stream so reads return the uncompressed tar, whatever the compression."""
    head = raw.peek(4)
    inner: io.RawIOBase
    if head.startswith(GZIP_MAGIC):
        inner = _GzipReader(raw)
    elif head.startswith(ZSTD_MAGIC):
        inner = _ZstdReader(raw)
    else:
        inner = raw
    return io.BufferedReader(inner, buffer_size=1 << 20)


class _ZstdReader(io.RawIOBase):
    """zstd decoding (zstandard's stream reader) with errors translated."""

    def __init__(self, raw: ChunkStream) -> None:
        source = cast(IO[bytes], raw)
        self._reader = zstandard.ZstdDecompressor().stream_reader(source, read_across_frames=True)

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = self._reader.read(len(b))
        except zstandard.ZstdError as exc:
            raise LayerError(f"corrupt zstd stream: {exc}") from exc
        n = len(data)
        b[:n] = data
        return n
