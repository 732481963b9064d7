"""What images are on this node, and the inventory events a change between two looks means.

``node_images`` asks CRI for the kubelet's images and containerd for each name's target
descriptor; ``inventory_events`` turns the current set (and the previous one) into
``ImageDiscovered`` for every image present and ``ImageRemoved`` for every image gone.

Repositories keep the registry the image was pulled from (``docker.io/fixture/debian``), so the
same path on two registries stays two repositories behind the daemon's single address, and the
image reference ``<advertised address>/<registry>/<path>@<digest>`` is one the daemon serves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from schemas.events import Event, ImageDiscovered, ImageRemoved
from services.common.errors import ReferenceError_
from services.node.containerd import ContainerdClient
from services.oci.reference import parse_reference

__all__ = ["NodeImage", "inventory_events", "node_images", "split_image_name"]


@dataclass(frozen=True, order=True)
class NodeImage:
    """One (repository, tag) of an image on the node and the manifest (or index) digest it names."""

    repository: str  # "docker.io/fixture/debian": the registry it came from, then its path
    tag: str  # "" for a name that is only a digest
    digest: str
    size: int = 0


def split_image_name(name: str) -> tuple[str, str, str]:
    """``(repository, tag, digest)`` of a containerd/CRI image name, repository with its registry.

    ``ReferenceError_`` for names that are not references (CRI's ``sha256:<id>`` records).
    """
    if name.startswith("sha256:"):
        raise ReferenceError_(f"{name!r} is an image id, not a reference")
    ref = parse_reference(name)
    return f"{ref.registry}/{ref.repository}", ref.tag, ref.digest


async def node_images(client: ContainerdClient) -> list[NodeImage]:
    """The images the kubelet's runtime holds, each tag and digest name resolved by containerd.

    A name CRI lists but containerd cannot resolve (removed in between) is skipped; a digest-only
    name is dropped when a tagged name of the same repository points at the same digest.
    """
    found: set[NodeImage] = set()
    targets = {t.name: t for t in await client.images()}  # one Images/List, not a Get per name
    for image in await client.cri_images():
        for name in (*image.repo_tags, *image.repo_digests):
            try:
                repository, tag, _ = split_image_name(name)
            except ReferenceError_:
                continue
            target = targets.get(name)
            if target is None:
                continue
            found.add(
                NodeImage(
                    repository=repository,
                    tag=tag,
                    digest=target.digest,
                    size=image.size,
                )
            )
    tagged = {(i.repository, i.digest) for i in found if i.tag}
    return sorted(i for i in found if i.tag or (i.repository, i.digest) not in tagged)


def inventory_events(
    current: Iterable[NodeImage],
    previous: Iterable[NodeImage],
    *,
    environment: str,
    registry: str,
    now: str,
) -> list[Event]:
    """``ImageDiscovered`` for every current image, ``ImageRemoved`` for each digest gone.

    Every image is reported on every pass (a sighting refreshes ``last_seen`` downstream and
    repairs links another node's removal took away); removal is per (repository, digest), since
    dedupe unlinks by repository and digest, not by tag.
    """
    current = list(current)
    events: list[Event] = [
        ImageDiscovered(
            environment=environment,
            registry=registry,
            repository=image.repository,
            tag=image.tag,
            digest=image.digest,
            discovered_at=now,
            size_bytes=image.size,
        )
        for image in current
    ]
    still = {(i.repository, i.digest) for i in current}
    gone = sorted({(i.repository, i.digest) for i in previous} - still)
    events += [
        ImageRemoved(
            environment=environment,
            digest=digest,
            repository=repository,
            registry=registry,
            removed_at=now,
        )
        for repository, digest in gone
    ]
    return events
