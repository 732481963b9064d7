"""Docker archives (``docker-archive:FILE[:REF]``): ``docker save`` and skopeo tarballs.

``manifest.json`` lists each image's ``Config``, ``RepoTags`` and ``Layers`` (member names,
bottom first). Members are read in place by offset (``TarIndex``); layer names that are
symlinks inside the tar (skopeo's legacy ``<id>/layer.tar``) resolve to their targets.

Identity: a docker archive has no registry manifest, so the config digest stands in for
the manifest digest: ``ImageInfo.digest == ImageInfo.config_digest``. Layer digests are
the sha256 of each stored layer member: the diff_id when the layer is uncompressed, the
digest in the member name (``blobs/sha256/<hex>``) when compressed, else hashed on open.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path
from typing import Any

from schemas.records import LayerInfo
from services.common.errors import ImageError, ReferenceError_
from services.engine.budget import ScanBudget
from services.engine.image.blobio import CHUNK_SIZE, BlobRange, LocalImage, existing_file
from services.engine.image.interface import ImageSource, OpenedImage
from services.engine.image.tarindex import TarIndex
from services.oci.documents import ArchiveEntry, ConfigDoc, decode_config, decode_document
from services.oci.manifest import created_by, diff_ids, info_from_config
from services.oci.reference import parse_reference

__all__ = ["DockerArchiveSource", "open_docker_archive"]

_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
_NAMED_DIGEST_RE = re.compile(r"(?:^|/)(?:sha256/)?([a-f0-9]{64})(?:\.tar(?:\.gz|\.zst)?|\.json)?$")


def _sniff_media_type(head: bytes) -> str:
    if head.startswith(b"\x1f\x8b"):
        return _LAYER_TAR + "+gzip"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return _LAYER_TAR + "+zstd"
    return _LAYER_TAR


def _read_head(where: BlobRange, n: int = 4) -> bytes:
    with where.opener() as f:
        f.seek(where.offset)
        return f.read(min(n, where.length))


def _hash_range(where: BlobRange) -> str:
    digest = hashlib.sha256()
    with where.opener() as f:
        f.seek(where.offset)
        remaining = where.length
        while remaining > 0:
            chunk = f.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                break
            digest.update(chunk)
            remaining -= len(chunk)
    return "sha256:" + digest.hexdigest()


def _named_digest(name: str) -> str:
    match = _NAMED_DIGEST_RE.search(name)
    return f"sha256:{match.group(1)}" if match else ""


def _normalised_tag(tag: str) -> str:
    try:
        return str(parse_reference(tag))
    except ReferenceError_:
        return tag


def _choose_entry(images: list[ArchiveEntry], ref: str, what: str) -> ArchiveEntry:
    tags = [t for e in images for t in (e.repo_tags or [])]
    if ref:
        wanted = _normalised_tag(ref)
        for entry in images:
            if any(_normalised_tag(t) == wanted for t in entry.repo_tags or []):
                return entry
        raise ImageError(f"{what}: no image tagged {ref!r} (tags: {', '.join(tags) or 'none'})")
    if len(images) == 1:
        return images[0]
    if not images:
        raise ImageError(f"{what}: manifest.json lists no images")
    raise ImageError(
        f"{what}: the archive holds {len(images)} images; name one with :REF (tags: {', '.join(tags)})"
    )


def _read_config(index: TarIndex, name: str, what: str) -> tuple[str, ConfigDoc, dict[str, Any]]:
    data = index.read(name)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    named = _named_digest(name)
    if named and named != digest:
        raise ImageError(f"{what}: config {name} has digest {digest}, its name says {named}")
    return digest, *decode_config(data, f"{what}: config {name}")


def _layers(
    index: TarIndex, entry: ArchiveEntry, config: ConfigDoc, what: str
) -> list[tuple[LayerInfo, BlobRange]]:
    """Each layer's ``LayerInfo`` and where its bytes are, bottom first."""
    ids = diff_ids(config)
    if len(ids) != len(entry.layers):
        raise ImageError(
            f"{what}: manifest.json lists {len(entry.layers)} layers, the config {len(ids)} diff_ids"
        )
    history = created_by(config)
    layers: list[tuple[LayerInfo, BlobRange]] = []
    for i, name in enumerate(entry.layers):
        where = index.locate(name)
        media_type = _sniff_media_type(_read_head(where))
        # an uncompressed layer's blob digest is its diff_id (verified when streamed)
        digest = ids[i] if media_type == _LAYER_TAR else _named_digest(name) or _hash_range(where)
        info = LayerInfo(
            digest=digest,
            diff_id=ids[i],
            media_type=media_type,
            size=where.length,
            created_by=history[i] if i < len(history) else "",
        )
        layers.append((info, where))
    return layers


def open_docker_archive(
    path: Path, *, what: str, ref: str = "", budget: ScanBudget = ScanBudget()
) -> LocalImage:
    """Index the tar, pick the image (by ``ref`` among RepoTags when given), read its config.

    Blocking; call it in a thread. A gzipped archive is inflated once to temporary disk
    (within ``budget``), removed when the image is closed.
    """
    index = TarIndex.build(path, what, budget)
    try:
        if "manifest.json" not in index:
            raise ImageError(f"{what}: not a docker archive (no manifest.json inside)")
        entries = decode_document(index.read("manifest.json"), list[ArchiveEntry], f"{what}: manifest.json")
        entry = _choose_entry(entries, ref, what)
        config_digest, config, whole = _read_config(index, entry.config, what)
        layers = _layers(index, entry, config, what)
        ranges = {layer.digest: where for layer, where in layers}
    except BaseException:
        index.close()
        raise
    info = info_from_config(
        ref=what,
        digest=config_digest,
        config_digest=config_digest,
        config=config,
        layers=[layer for layer, _ in layers],
    )

    def locate(digest: str) -> BlobRange:
        try:
            return ranges[digest]
        except KeyError:
            raise ImageError(f"{what}: blob {digest} missing") from None

    return LocalImage(info, whole, locate, index.close)


class DockerArchiveSource(ImageSource):
    """``docker-archive:FILE[:REF]``: a ``docker save`` tarball, read without extracting."""

    def __init__(
        self, path: str, ref: str = "", *, target: str = "", budget: ScanBudget = ScanBudget()
    ) -> None:
        self.path = path
        self.ref = ref
        self.budget = budget
        self.target = target or (f"docker-archive:{path}:{ref}" if ref else f"docker-archive:{path}")

    def describe(self) -> str:
        """The target as given."""
        return self.target

    async def open(self) -> OpenedImage:
        """Read manifest.json and the config; layers stay in the tar until streamed."""

        def run() -> OpenedImage:
            path = existing_file(self.path, self.target)
            return open_docker_archive(path, what=self.target, ref=self.ref, budget=self.budget)

        return await asyncio.to_thread(run)
