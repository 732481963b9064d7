"""What each repository's images hold in containerd's content store, and whether it is all there.

``image_content`` walks an image from its target (an index or a manifest) to its configs and
layers. Two answers come out of one walk:

- ``digests``: every blob the image names that the daemon may serve under its repository, so a
  token for one repository never reads another's blobs by digest;
- ``complete``: whether some platform's manifest has its config and every layer in the store.
  A lazily pulled image (GKE Image Streaming, a stargz snapshotter) has its manifest and config
  but not its layers: the daemon must not offer it, and reports it with its real registry instead
  (``images.py``), so the engine pulls it from there.

``RepositoryContent`` keeps the answers per repository, refreshed from containerd's image list
when a name or digest is not known yet, and caches walks per target digest (content under a
digest never changes; a walk found incomplete is walked again next time, and so is a complete one
once a blob it names is found missing: ``lost``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.common.errors import ImageError, ReferenceError_
from services.node.containerd import ContainerdClient
from services.oci.documents import ManifestDoc, decode_document
from services.oci.node_names import served_repository
from services.oci.reference import parse_reference

__all__ = ["ImageContent", "RepositoryContent", "image_content", "split_image_name"]

MAX_MANIFEST = 4 * 1024 * 1024
_MAX_DEPTH = 3  # index -> (nested index ->) manifest


@dataclass(frozen=True)
class ImageContent:
    """The blobs an image names (present or not) and whether one platform is whole in the store."""

    digests: frozenset[str]
    complete: bool


def split_image_name(name: str) -> tuple[str, str, str]:
    """``(repository, tag, digest)`` of a containerd/CRI image name, repository with its registry as
    the daemon serves it (``127.0.0.1:5000/app`` -> ``127.0.0.1_5000/app``: ``oci/node_names.py``).

    ``ReferenceError_`` for names that are not references (CRI's ``sha256:<id>`` records).
    """
    if name.startswith("sha256:"):
        raise ReferenceError_(f"{name!r} is an image id, not a reference")
    ref = parse_reference(name)
    return served_repository(ref.registry, ref.repository), ref.tag, ref.digest


async def image_content(client: ContainerdClient, digest: str, depth: int = 0) -> ImageContent:
    """Walk ``digest`` (an index or manifest) through the store (see the module docstring)."""
    info = await client.blob_info(digest)
    if info is None or info.size > MAX_MANIFEST or depth > _MAX_DEPTH:
        return ImageContent(frozenset({digest}), complete=False)
    data = await client.read_small_blob(digest, MAX_MANIFEST)
    try:
        doc = decode_document(data, ManifestDoc, f"containerd manifest {digest}")
    except ImageError:
        return ImageContent(frozenset({digest}), complete=False)
    digests = {digest}
    if doc.manifests is not None:
        complete = False
        for child in doc.manifests:
            if not child.digest:
                continue
            sub = await image_content(client, child.digest, depth + 1)
            digests |= sub.digests
            complete = complete or sub.complete
        return ImageContent(frozenset(digests), complete)
    blobs = [d.digest for d in (doc.config, *(doc.layers or ())) if d is not None and d.digest]
    digests.update(blobs)
    complete = doc.config is not None
    for blob in blobs:
        if complete and await client.blob_info(blob) is None:
            complete = False
    return ImageContent(frozenset(digests), complete)


class RepositoryContent:
    """Per repository: its images' targets, and the blobs they name (see the module docstring)."""

    def __init__(self, client: ContainerdClient) -> None:
        self._client = client
        self._targets: dict[str, set[str]] = {}
        self._walks: dict[str, ImageContent] = {}

    async def refresh(self) -> None:
        """Read containerd's image list again (one ``Images/List``)."""
        targets: dict[str, set[str]] = {}
        for image in await self._client.images():
            try:
                targets.setdefault(split_image_name(image.name)[0], set()).add(image.digest)
            except ReferenceError_:
                continue
        self._targets = targets

    async def knows(self, repository: str) -> bool:
        """Is ``repository`` the repository of an image on the node (the list is re-read on a miss)?"""
        if repository not in self._targets:
            await self.refresh()
        return repository in self._targets

    async def walk(self, digest: str) -> ImageContent:
        """The image at ``digest``; a complete walk is cached (content under a digest is immutable)."""
        cached = self._walks.get(digest)
        if cached is None or not cached.complete:
            cached = await image_content(self._client, digest)
            self._walks[digest] = cached
        return cached

    def lost(self, blob: str) -> None:
        """``blob`` is gone from the store (a request for it found nothing): walk the images naming it
        again, so the next report offers none of them whole (they go out with their own registry)."""
        for target in [t for t, walk in self._walks.items() if blob in walk.digests]:
            del self._walks[target]

    async def holds(self, repository: str, digest: str) -> bool:
        """Does an image of ``repository`` name ``digest``? Re-reads the image list once on a miss."""
        for attempt in range(2):
            if attempt:
                await self.refresh()
            if digest in await self._names(self._targets.get(repository, ())):
                return True
        return False

    async def serves(self, repository: str, digest: str) -> bool:
        """Is the image at ``digest`` of ``repository`` whole here, so the daemon may offer it?"""
        return digest in self._targets.get(repository, ()) and (await self.walk(digest)).complete

    async def _names(self, targets: Iterable[str]) -> frozenset[str]:
        out: set[str] = set()
        for target in targets:
            out |= (await self.walk(target)).digests
        return frozenset(out)
