"""What every webhook parser returns: the events, and what it set aside with the reason."""

from __future__ import annotations

from typing import Final

import msgspec

from schemas.events import ImageDiscovered, ImageRemoved

__all__ = ["MANIFEST_TYPES", "Parsed", "WebhookError", "removal", "sighting"]

# what a push of an image (or an image index) carries; blob and other artifact pushes are not images
MANIFEST_TYPES: Final = frozenset(
    {
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)


class WebhookError(ValueError):
    """A body that is not the sender's notification format; the message says what is wrong."""


class Parsed(msgspec.Struct, frozen=True, kw_only=True):
    """A notification's inventory events, and the entries skipped (e.g. blob pushes) with why."""

    events: list[ImageDiscovered | ImageRemoved] = []
    skipped: list[str] = []


def sighting(registry: str, repository: str, digest: str, tag: str, at: str, ou: str) -> ImageDiscovered:
    """A push seen in ``registry``: the same event the crawler publishes for a tag it lists."""
    return ImageDiscovered(
        environment=f"registry:{registry}", registry=registry, repository=repository, digest=digest,
        tag=tag, discovered_at=at, ou=ou,
    )  # fmt: skip


def removal(registry: str, repository: str, digest: str, at: str) -> ImageRemoved:
    """A delete in ``registry``: the digest is unlinked from that registry's environment."""
    return ImageRemoved(
        environment=f"registry:{registry}", registry=registry, repository=repository, digest=digest,
        removed_at=at,
    )  # fmt: skip
