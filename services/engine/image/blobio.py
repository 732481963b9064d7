"""Reading blobs from local files in bounded chunks, with the digest checked while streaming.

Used by the layout and archive sources: a blob is a byte range of a file (a whole file in
an OCI layout, a member's data inside a tar). Reads run in a worker thread, one chunk at a
time, so the event loop never blocks on disk and memory stays at one chunk.
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from schemas.records import ImageInfo, LayerInfo
from services.common.errors import ImageError, LayerError
from services.engine.image.interface import OpenedImage
from services.oci.digest import CHUNK_SIZE, MAX_METADATA_BYTES, DigestVerifier

__all__ = [
    "CHUNK_SIZE",
    "BlobRange",
    "DigestVerifier",
    "LocalImage",
    "read_range",
    "regular_file",
    "stream_range",
]


@dataclass(frozen=True)
class BlobRange:
    """Where a blob's bytes are: ``length`` bytes from ``offset`` of the stream ``opener`` returns."""

    opener: Callable[[], BinaryIO]
    offset: int
    length: int


def existing_file(path: str, target: str) -> Path:
    """``path`` made absolute, or ``ImageError`` naming the target when it is not a file."""
    full = Path(os.path.abspath(path))
    if not full.is_file():
        raise ImageError(f"{target}: no such file")
    return full


def _open_regular(path: Path, what: str) -> BinaryIO:
    # O_NONBLOCK: opening a FIFO for reading must not wait for a writer; fstat then refuses it
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ImageError(f"{what}: not a regular file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def regular_file(path: Path, what: str) -> BlobRange:
    """The whole of ``path`` as a blob, refused (``ImageError``) unless it is a regular file.

    Links are followed, but a FIFO, a device (a link to ``/dev/zero``) or a directory is
    never opened for reading: each would hang or never end.
    """
    try:
        info = os.stat(path)
    except OSError as exc:
        raise ImageError(f"{what}: cannot read: {exc.strerror}") from exc
    if not stat.S_ISREG(info.st_mode):
        raise ImageError(f"{what}: not a regular file")

    def opener() -> BinaryIO:
        return _open_regular(path, what)

    return BlobRange(opener, 0, info.st_size)


def _open_at(blob: BlobRange) -> BinaryIO:
    f = blob.opener()
    try:
        if blob.offset:
            f.seek(blob.offset)
    except BaseException:
        f.close()
        raise
    return f


async def stream_range(blob: BlobRange, digest: str, what: str) -> AsyncIterator[bytes]:
    """Yield the blob in chunks of at most ``CHUNK_SIZE``; verify ``digest`` after the last one.

    A short read or a digest mismatch raises ``LayerError`` naming ``what``. Closing the
    generator early skips the check and closes the file.
    """
    verifier = DigestVerifier(digest, blob.length)
    try:
        f = await asyncio.to_thread(_open_at, blob)
    except (OSError, ImageError) as exc:
        raise LayerError(f"{what}: cannot open: {exc}") from exc
    try:
        remaining = blob.length
        while remaining > 0:
            try:
                chunk = await asyncio.to_thread(f.read, min(CHUNK_SIZE, remaining))
            except (OSError, EOFError) as exc:
                raise LayerError(f"{what}: read failed: {exc}") from exc
            if not chunk:
                break
            remaining -= len(chunk)
            verifier.update(chunk)
            yield chunk
        verifier.check(what)
    finally:
        await asyncio.to_thread(f.close)


def read_range(blob: BlobRange, digest: str | None, what: str, limit: int = MAX_METADATA_BYTES) -> bytes:
    """Read a small blob (manifest, index, config) whole, checking ``digest`` when given.

    Blocking; callers run it in a thread. Errors are ``ImageError`` naming ``what``.
    """
    if blob.length > limit:
        raise ImageError(f"{what}: {blob.length} bytes is more than the {limit} allowed for metadata")
    try:
        f = _open_at(blob)
        with f:
            data = f.read(blob.length)
    except (OSError, EOFError) as exc:
        raise ImageError(f"{what}: cannot read: {exc}") from exc
    if digest:
        verifier = DigestVerifier(digest, blob.length)
        verifier.update(data)
        verifier.check(what, ImageError)
    return data


class LocalImage(OpenedImage):
    """An image whose blobs are byte ranges of local files (layouts and archives).

    ``locate`` maps a layer digest to its range, raising ``ImageError`` when it is missing;
    ``closer`` releases whatever the source holds open.
    """

    def __init__(
        self,
        info: ImageInfo,
        config: dict[str, Any],
        locate: Callable[[str], BlobRange],
        closer: Callable[[], None] | None = None,
    ) -> None:
        self.info = info
        self.config = config
        self._locate = locate
        self._closer = closer

    async def blob(self, layer: LayerInfo) -> AsyncIterator[bytes]:
        """Stream the layer from its file range, verifying its digest (see ``stream_range``)."""
        what = f"{self.info.ref}: layer {layer.digest}"
        try:
            where = self._locate(layer.digest)
        except ImageError as exc:
            raise LayerError(str(exc)) from exc
        if layer.size and layer.size != where.length:
            # checked before reading: a sparse giant declared small is never read
            raise LayerError(f"{what}: {where.length} bytes stored, the manifest says {layer.size}")
        async for chunk in stream_range(where, layer.digest, what):
            yield chunk

    async def aclose(self) -> None:
        """Run the source's closer once."""
        closer, self._closer = self._closer, None
        if closer is not None:
            await asyncio.to_thread(closer)
