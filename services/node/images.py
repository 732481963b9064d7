"""What images are on this node, and the inventory events a change between two looks means.

``node_images`` asks CRI for the kubelet's images and containerd for each name's target
descriptor; ``inventory_events`` turns the current set (and the previous one) into
``ImageDiscovered`` for every image present and ``ImageRemoved`` for every image gone.

Repositories keep the registry the image was pulled from (``docker.io/fixture/debian``), so the
same path on two registries stays two repositories behind the daemon's single address, and the
image reference ``<advertised address>/<registry>/<path>@<digest>`` is one the daemon serves (a
registry's port joined with ``_``, ``127.0.0.1_5000/app``, so the reference parses:
``services/oci/node_names.py``).

An image whose layers are not all in the content store (lazily pulled: GKE Image Streaming, a
stargz snapshotter) is not offered by the daemon: it is reported with its real registry and path
(``docker.io``, ``fixture/debian``), as a cluster watch would, so the engine pulls it from there.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from schemas.events import ImageDiscovered, ImageRemoved, InventoryEvent
from services.common.errors import ReferenceError_
from services.node.containerd import ContainerdClient
from services.node.content import RepositoryContent, split_image_name
from services.oci.node_names import origin_of

__all__ = ["NodeImage", "inventory_events", "node_images", "split_image_name"]


@dataclass(frozen=True, order=True)
class NodeImage:
    """One (repository, tag) of an image on the node and the manifest (or index) digest it names."""

    repository: str  # "docker.io/fixture/debian": the registry it came from, then its path
    tag: str  # "" for a name that is only a digest
    digest: str
    size: int = 0
    origin: str = ""  # its registry ("docker.io") when the node lacks its layers: pull from there

    def source(self, advertise: str) -> tuple[str, str]:
        """``(registry, repository)`` to report: the daemon's address, or the origin registry."""
        if not self.origin:
            return advertise, self.repository
        return self.origin, self.repository.split("/", 1)[1]


async def node_images(client: ContainerdClient, content: RepositoryContent | None = None) -> list[NodeImage]:
    """The images the kubelet's runtime holds, each tag and digest name resolved by containerd.

    A name CRI lists but containerd cannot resolve (removed in between) is skipped; a digest-only
    name is dropped when a tagged name of the same repository points at the same digest. An image
    whose content is not whole in the store gets its ``origin`` (see the module docstring).
    """
    content = content or RepositoryContent(client)
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
            whole = (await content.walk(target.digest)).complete
            origin = "" if whole else _registry_of(repository)
            found.add(NodeImage(repository, tag, target.digest, size=image.size, origin=origin))
    tagged = {(i.repository, i.digest) for i in found if i.tag}
    return sorted(i for i in found if i.tag or (i.repository, i.digest) not in tagged)


def _registry_of(repository: str) -> str:
    found = origin_of(repository)
    return found[0] if found is not None else repository.split("/", 1)[0]


def inventory_events(
    current: Iterable[NodeImage],
    previous: Iterable[NodeImage],
    *,
    environment: str,
    registry: str,
    now: str,
    ou: str = "",
) -> list[InventoryEvent]:
    """``ImageDiscovered`` for every current image, ``ImageRemoved`` for each digest gone.

    ``registry`` is the daemon's advertised address (images it serves); an image with an
    ``origin`` is reported under that registry instead. Every image is reported on every pass (a
    sighting refreshes ``last_seen`` downstream and repairs links another node's removal took
    away); removal is per (registry, repository, digest), since dedupe unlinks by repository and
    digest, not by tag. ``ou``: the cluster's organisational unit, on every sighting.
    """
    current = list(current)
    events: list[InventoryEvent] = []
    for image in current:
        reg, repository = image.source(registry)
        events.append(
            ImageDiscovered(
                environment=environment,
                registry=reg,
                repository=repository,
                tag=image.tag,
                digest=image.digest,
                discovered_at=now,
                size_bytes=image.size,
                ou=ou,
            )
        )
    still = {(*i.source(registry), i.digest) for i in current}
    gone = sorted({(*i.source(registry), i.digest) for i in previous} - still)
    events += [
        ImageRemoved(
            environment=environment, digest=digest, repository=repository, registry=reg, removed_at=now
        )
        for reg, repository, digest in gone
    ]
    return events
