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

import msgspec

from schemas.records import LayerInfo
from services.common.errors import ImageError, ReferenceError_
from services.engine.image.blobio import CHUNK_SIZE, BlobRange, LocalImage, existing_file
from services.engine.image.interface import ImageSource, OpenedImage
from services.engine.image.manifest import decode_json, info_from_config
from services.engine.image.reference import parse_reference
from services.engine.image.tarindex import TarIndex

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


def _choose_entry(entries: list[Any], ref: str, what: str) -> dict[str, Any]:
    images = [e for e in entries if isinstance(e, dict)]
    tags = [str(t) for e in images for t in (e.get("RepoTags") or [])]
    if ref:
        wanted = _normalised_tag(ref)
        for entry in images:
            if any(_normalised_tag(str(t)) == wanted for t in entry.get("RepoTags") or []):
                return entry
        raise ImageError(f"{what}: no image tagged {ref!r} (tags: {', '.join(tags) or 'none'})")
    if len(images) == 1:
        return images[0]
    if not images:
        raise ImageError(f"{what}: manifest.json lists no images")
    raise ImageError(
        f"{what}: the archive holds {len(images)} images; name one with :REF (tags: {', '.join(tags)})"
    )


def _read_config(index: TarIndex, name: str, what: str) -> tuple[str, dict[str, Any]]:
    data = index.read(name)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    named = _named_digest(name)
    if named and named != digest:
        raise ImageError(f"{what}: config {name} has digest {digest}, its name says {named}")
    return digest, decode_json(data, f"{what}: config {name}")


def open_docker_archive(path: Path, *, what: str, ref: str = "") -> LocalImage:
    """Index the tar, pick the image (by ``ref`` among RepoTags when given), read its config.

    Blocking; call it in a thread.
    """
    index = TarIndex.build(path, what)
    if "manifest.json" not in index:
        raise ImageError(f"{what}: not a docker archive (no manifest.json inside)")
    try:
        entries = msgspec.json.decode(index.read("manifest.json"))
    except msgspec.DecodeError as exc:
        raise ImageError(f"{what}: manifest.json: invalid JSON: {exc}") from exc
    if not isinstance(entries, list):
        raise ImageError(f"{what}: manifest.json: expected a list of images")
    entry = _choose_entry(entries, ref, what)
    config_name = entry.get("Config")
    layer_names = entry.get("Layers")
    if not isinstance(config_name, str) or not isinstance(layer_names, list):
        raise ImageError(f"{what}: manifest.json entry has no Config or Layers")
    config_digest, config = _read_config(index, config_name, what)
    rootfs = config.get("rootfs") if isinstance(config.get("rootfs"), dict) else {}
    diff_ids = [str(d) for d in (rootfs or {}).get("diff_ids") or []]
    if len(diff_ids) != len(layer_names):
        raise ImageError(
            f"{what}: manifest.json lists {len(layer_names)} layers, the config {len(diff_ids)} diff_ids"
        )
    history = [h for h in config.get("history") or [] if isinstance(h, dict) and not h.get("empty_layer")]
    layers: list[LayerInfo] = []
    ranges: dict[str, BlobRange] = {}
    for i, name in enumerate(layer_names):
        where = index.locate(str(name))
        media_type = _sniff_media_type(_read_head(where))
        # an uncompressed layer's blob digest is its diff_id (verified when streamed)
        digest = diff_ids[i] if media_type == _LAYER_TAR else _named_digest(str(name)) or _hash_range(where)
        ranges[digest] = where
        layers.append(
            LayerInfo(
                digest=digest,
                diff_id=diff_ids[i],
                media_type=media_type,
                size=where.length,
                created_by=str(history[i].get("created_by") or "") if i < len(history) else "",
            )
        )
    info = info_from_config(
        ref=what, digest=config_digest, config_digest=config_digest, config=config, layers=layers
    )

    def locate(digest: str) -> BlobRange:
        try:
            return ranges[digest]
        except KeyError:
            raise ImageError(f"{what}: blob {digest} missing") from None

    return LocalImage(info, config, locate)


class DockerArchiveSource(ImageSource):
    """``docker-archive:FILE[:REF]``: a ``docker save`` tarball, read without extracting."""

    def __init__(self, path: str, ref: str = "", *, target: str = "") -> None:
        self.path = path
        self.ref = ref
        self.target = target or (f"docker-archive:{path}:{ref}" if ref else f"docker-archive:{path}")

    def describe(self) -> str:
        """The target as given."""
        return self.target

    async def open(self) -> OpenedImage:
        """Read manifest.json and the config; layers stay in the tar until streamed."""

        def run() -> OpenedImage:
            path = existing_file(self.path, self.target)
            return open_docker_archive(path, what=self.target, ref=self.ref)

        return await asyncio.to_thread(run)
