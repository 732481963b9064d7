"""OCI image layout directories (``oci:DIR[:TAG]``): ``index.json`` plus ``blobs/<alg>/<hex>``.

The resolution steps (tag, nested indexes, platform, manifest, config) are written against
a small ``LayoutStore`` so that ``oci_archive`` reuses them for a layout inside a tar.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from services.common.errors import ImageError
from services.engine.image.blobio import BlobRange, LocalImage, read_range, regular_file
from services.engine.image.interface import ImageSource, OpenedImage
from services.oci.digest import MAX_METADATA_BYTES
from services.oci.documents import Descriptor, ManifestDoc, decode_config, decode_document
from services.oci.manifest import (
    Platform,
    build_info,
    choose_descriptor,
    descriptor_tags,
    manifest_kind,
)

__all__ = ["DirectoryStore", "LayoutStore", "OCILayoutSource", "open_layout"]

_DIGEST_RE = re.compile(r"(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})")
_MAX_NESTING = 4


class LayoutStore(Protocol):
    """Read access to an OCI layout, wherever it lives."""

    def read_index(self) -> bytes:
        """The bytes of ``index.json``; ``ImageError`` when absent."""
        ...

    def locate(self, digest: str) -> BlobRange:
        """Where the blob ``digest`` is; ``ImageError`` ("blob … missing") when absent."""
        ...


def blob_path(digest: str, what: str) -> str:
    """``blobs/<alg>/<hex>`` for a well-formed digest; anything else (``../``) is refused."""
    if not _DIGEST_RE.fullmatch(digest):
        raise ImageError(f"{what}: invalid blob digest {digest!r}")
    algorithm, _, hexpart = digest.partition(":")
    return f"blobs/{algorithm}/{hexpart}"


class DirectoryStore:
    """An OCI layout directory on disk."""

    def __init__(self, root: Path, what: str) -> None:
        self.root = root
        self.what = what

    def read_index(self) -> bytes:
        """Read ``index.json`` (checking ``oci-layout`` is there too)."""
        if not (self.root / "oci-layout").is_file():
            raise ImageError(f"{self.what}: not an OCI image layout (no oci-layout file in {self.root})")
        # a regular file of bounded size only: not a link to /dev/zero, a FIFO or a sparse giant
        index = regular_file(self.root / "index.json", f"{self.what}: index.json")
        return read_range(index, None, f"{self.what}: index.json", MAX_METADATA_BYTES)

    def locate(self, digest: str) -> BlobRange:
        """The blob file for ``digest`` (a regular file: never a FIFO or a device)."""
        path = self.root / blob_path(digest, self.what)
        if not os.path.lexists(path):
            raise ImageError(f"{self.what}: blob {digest} missing")
        return regular_file(path, f"{self.what}: blob {digest}")


def _read_blob(store: LayoutStore, descriptor: Descriptor, what: str) -> bytes:
    digest = descriptor.digest
    where = store.locate(digest)
    if descriptor.size and descriptor.size != where.length:
        raise ImageError(f"{what}: blob {digest} is {where.length} bytes, descriptor says {descriptor.size}")
    return read_range(where, digest, f"{what}: blob {digest}")


def _select_top(index: ManifestDoc, tag: str, platform: Platform, what: str) -> Descriptor:
    entries = [d for d in index.manifests or [] if d.digest]
    if not entries:
        raise ImageError(f"{what}: index.json lists no images")
    known = sorted({t for d in entries for t in descriptor_tags(d)})
    if tag:
        matches = [d for d in entries if tag in descriptor_tags(d)]
        if not matches:
            raise ImageError(f"{what}: no image tagged {tag!r} (tags: {', '.join(known) or 'none'})")
        if len(matches) == 1:
            return matches[0]
        return choose_descriptor(matches, platform, what)
    if len(entries) == 1:
        return entries[0]
    try:
        return choose_descriptor(entries, platform, what)
    except ImageError as exc:
        raise ImageError(
            f"{what}: the layout holds {len(entries)} images; name one with :TAG (tags: {', '.join(known)})"
        ) from exc


def open_layout(
    store: LayoutStore, *, what: str, tag: str, platform: Platform, closer: Callable[[], None] | None = None
) -> LocalImage:
    """Resolve a layout to one image: tag, nested indexes and platform, then manifest and config.

    Blocking (it reads files); call it in a thread. ``what`` names the target in errors and
    becomes ``ImageInfo.ref``; ``closer`` is handed to the image (run when it is closed).
    """
    index = decode_document(store.read_index(), ManifestDoc, f"{what}: index.json")
    descriptor = _select_top(index, tag, platform, what)
    for _ in range(_MAX_NESTING):
        data = _read_blob(store, descriptor, what)
        doc = decode_document(data, ManifestDoc, f"{what}: manifest {descriptor.digest}")
        if manifest_kind(doc, descriptor.media_type, f"{what}: {descriptor.digest}") == "manifest":
            break
        descriptor = choose_descriptor(doc.manifests or [], platform, f"{what}: index {descriptor.digest}")
    else:
        raise ImageError(f"{what}: indexes nested more than {_MAX_NESTING} deep")
    config_desc = doc.config
    if config_desc is None or not config_desc.digest:
        raise ImageError(f"{what}: manifest {descriptor.digest} has no config")
    config, whole = decode_config(
        _read_blob(store, config_desc, what), f"{what}: config {config_desc.digest}"
    )
    info = build_info(
        ref=what,
        digest=descriptor.digest,
        manifest=doc,
        config_digest=config_desc.digest,
        config=config,
        fallback_platform=Platform.from_doc(descriptor.platform),
    )
    return LocalImage(info, whole, store.locate, closer)


class OCILayoutSource(ImageSource):
    """``oci:DIR[:TAG]``: an OCI image layout directory, optionally one tagged image in it."""

    def __init__(self, path: str, tag: str = "", *, platform: str = "linux/amd64", target: str = "") -> None:
        self.path = path
        self.tag = tag
        self.platform = Platform.parse(platform)
        self.target = target or (f"oci:{path}:{tag}" if tag else f"oci:{path}")

    def describe(self) -> str:
        """The target as given."""
        return self.target

    async def open(self) -> OpenedImage:
        """Read index.json, the manifest and the config."""

        def run() -> OpenedImage:
            root = Path(os.path.abspath(self.path))
            if not root.is_dir():
                raise ImageError(f"{self.target}: no such directory")
            store = DirectoryStore(root, self.target)
            return open_layout(store, what=self.target, tag=self.tag, platform=self.platform)

        return await asyncio.to_thread(run)
