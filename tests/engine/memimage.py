"""An image held in memory: real tar layers, served through the OpenedImage seam (a transport, not a mock)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

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
    claim: str | None = None  # the diff_id the config claims; None: the real one ("" when mangled)
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
            plain = tar_bytes(layer.entries) if layer.mangle is None else b""
            blob = layer.mangle if layer.mangle is not None else compress(plain, layer.compression)
            digest = "sha256:" + hashlib.sha256(blob).hexdigest()
            diff_id = "sha256:" + hashlib.sha256(plain).hexdigest() if layer.mangle is None else ""
            self._blobs[digest] = blob
            infos.append(
                LayerInfo(
                    digest=digest,
                    diff_id=diff_id if layer.claim is None else layer.claim,
                    created_by=layer.created_by,
                    size=len(blob),
                )
            )
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


class DirImage(OpenedImage):
    """A ``dir:`` target: the tree at ``root`` is the image's final filesystem."""

    def __init__(self, root: str) -> None:
        self.info = ImageInfo(ref=f"dir:{root}", digest="", layers=[])
        self.config = {}
        self._root = root

    async def blob(self, layer: LayerInfo) -> AsyncIterator[bytes]:
        raise LayerError("a dir: target has no layer blobs")
        yield b""  # pragma: no cover - makes this an async generator

    def local_root(self) -> str | None:
        return self._root


class LayoutImage(OpenedImage):
    """An OCI image layout on disk (its first manifest), read with no more than the layout spec:
    a reference image source for walk tests that does not depend on the engine's own readers."""

    def __init__(self, root: Path, chunk: int = 1 << 20) -> None:
        self._root = root
        index = json.loads((root / "index.json").read_bytes())
        manifest = json.loads(self._path(index["manifests"][0]["digest"]).read_bytes())
        config = json.loads(self._path(manifest["config"]["digest"]).read_bytes())
        diff_ids = config["rootfs"]["diff_ids"]
        layers = [
            LayerInfo(digest=d["digest"], diff_id=diff_ids[i], size=d["size"])
            for i, d in enumerate(manifest["layers"])
        ]
        self.info = ImageInfo(ref=f"oci:{root}", digest=index["manifests"][0]["digest"], layers=layers)
        self.config = config
        self._chunk = chunk

    def _path(self, digest: str) -> Path:
        algorithm, _, hexdigest = digest.partition(":")
        return self._root / "blobs" / algorithm / hexdigest

    def blob_path(self, layer: LayerInfo) -> Path:
        return self._path(layer.digest)

    async def blob(self, layer: LayerInfo) -> AsyncIterator[bytes]:
        with self._path(layer.digest).open("rb") as fh:
            while chunk := fh.read(self._chunk):
                yield chunk
