"""An image held in memory: real tar layers, served through the OpenedImage seam (a transport, not a mock)."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import zstandard

from schemas.records import ImageInfo, LayerInfo
from services.common.errors import LayerError
from services.engine.image.interface import OpenedImage


@dataclass
class Entry:
    """One tar member: a file (data), a directory (data None, is_dir) or a symlink (link)."""

    path: str
    data: bytes | None = b""
    is_dir: bool = False
    link: str = ""
    hardlink: str = ""
    mode: int = 0o644


@dataclass
class Layer:
    entries: Sequence[Entry]
    compression: str = "gzip"  # gzip, zstd, none
    created_by: str = ""
    mangle: bytes | None = None  # the blob as given (a truncated stream, say) instead of the entries
    blob: bytes = field(default=b"", init=False)


def tar_bytes(entries: Sequence[Entry]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            info = tarfile.TarInfo(e.path)
            info.mode = e.mode
            if e.is_dir:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif e.link:
                info.type = tarfile.SYMTYPE
                info.linkname = e.link
                tar.addfile(info)
            elif e.hardlink:
                info.type = tarfile.LNKTYPE
                info.linkname = e.hardlink
                tar.addfile(info)
            else:
                data = e.data or b""
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def compress(data: bytes, how: str) -> bytes:
    if how == "gzip":
        return gzip.compress(data, mtime=0)  # deterministic blobs: the same layers, the same digests
    if how == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    return data


class MemoryImage(OpenedImage):
    """Layers given bottom first; blobs streamed in small chunks with digest checks."""

    def __init__(self, layers: Sequence[Layer], ref: str = "mem:test", chunk: int = 4096) -> None:
        infos = []
        self._blobs: dict[str, bytes] = {}
        for layer in layers:
            blob = (
                layer.mangle
                if layer.mangle is not None
                else compress(tar_bytes(layer.entries), layer.compression)
            )
            digest = "sha256:" + hashlib.sha256(blob).hexdigest()
            self._blobs[digest] = blob
            infos.append(LayerInfo(digest=digest, created_by=layer.created_by, size=len(self._blobs[digest])))
        self.info = ImageInfo(ref=ref, digest="sha256:" + "0" * 64, layers=infos)
        self.config = {}
        self._chunk = chunk
        self.tamper: set[str] = set()  # digests whose bytes are altered in flight

    async def blob(self, layer: LayerInfo) -> AsyncIterator[bytes]:
        data = self._blobs[layer.digest]
        if layer.digest in self.tamper:
            data = data[:-1] + bytes([data[-1] ^ 1])
        h = hashlib.sha256()
        for i in range(0, len(data), self._chunk):
            piece = data[i : i + self._chunk]
            h.update(piece)
            yield piece
        if "sha256:" + h.hexdigest() != layer.digest:
            raise LayerError(f"blob {layer.digest}: digest mismatch")
