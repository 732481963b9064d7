"""ECR inventory: every image of every repository of the configured ECR registries.

``describe_repositories`` then ``describe_images`` per repository, both through botocore
paginators; one ``Pass`` per crawl (``deltas`` publishes what changed, removals included).
One ``ImageDiscovered`` per (image, tag) (an untagged image gives one with an empty tag),
environment ``registry:<account>.dkr.ecr.<region>.amazonaws.com``, size from ``imageSizeInBytes``.

The digest is ECR's ``imageDigest`` (on AWS, the sha256 of the manifest). When a
``resolve_digest`` callable is given (the inventory passes one when a registry host override
sends this host's data plane elsewhere: a mirror, or the test registry beside moto), tagged
images take the digest the data plane serves for the tag instead, because that is the digest
the engine will pull. moto's ``imageDigest`` is not a content digest, so tests always resolve.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from schemas.events import ImageDiscovered
from services.common.clock import utcnow
from services.common.config import AwsConfig
from services.common.errors import RegistryError
from services.inventory.deltas import Pass

__all__ = ["DigestResolver", "crawl_ecr"]

log = logging.getLogger(__name__)

DigestResolver = Callable[[str, str, str], Awaitable[str]]
"""``(registry host, repository, tag) -> manifest digest`` from the registry's data plane."""

_AWS_ERRORS = (BotoCoreError, ClientError)


async def _repositories(client: Any, registry_id: str) -> AsyncIterator[dict[str, Any]]:
    kwargs = {"registryId": registry_id} if registry_id else {}
    async for page in client.get_paginator("describe_repositories").paginate(**kwargs):
        for repo in page.get("repositories", []):
            yield repo


async def _images(client: Any, registry_id: str, repository: str) -> AsyncIterator[dict[str, Any]]:
    kwargs = {"repositoryName": repository, **({"registryId": registry_id} if registry_id else {})}
    async for page in client.get_paginator("describe_images").paginate(**kwargs):
        for image in page.get("imageDetails", []):
            yield image


async def crawl_ecr(client: Any, config: AwsConfig, *, resolve_digest: DigestResolver | None = None) -> Pass:
    """The images of ``config.ecr_registry_ids`` (empty: the caller's own registry), as one pass.

    A registry whose repositories were listed is complete (a tag or repository gone from it is
    removed), except the repositories whose images could not be described or a tag not resolved;
    those are logged and skipped.
    """
    wanted = set(config.ecr_repositories)
    events: list[ImageDiscovered] = []
    environments: set[str] = set()
    incomplete: set[tuple[str, str]] = set()
    for registry_id in config.ecr_registry_ids or [""]:
        try:
            repositories = [r async for r in _repositories(client, registry_id)]
        except _AWS_ERRORS as exc:
            log.warning(
                "inventory: ECR registry %s: cannot list repositories: %s", registry_id or "(own)", exc
            )
            continue
        for repo in sorted(repositories, key=lambda r: str(r.get("repositoryName", ""))):
            name = str(repo.get("repositoryName", ""))
            if wanted and name not in wanted:
                continue
            host = str(repo.get("repositoryUri", "")).split("/", 1)[0]
            environments.add(f"registry:{host}")
            try:
                images = [i async for i in _images(client, str(repo.get("registryId", registry_id)), name)]
            except _AWS_ERRORS as exc:
                log.warning("inventory: ECR %s/%s: cannot describe images: %s", host, name, exc)
                incomplete.add((f"registry:{host}", name))
                continue
            for image in images:
                found, complete = await _events(host, name, image, resolve_digest)
                events.extend(found)
                if not complete:
                    incomplete.add((f"registry:{host}", name))
    return Pass(events=events, environments=frozenset(environments), incomplete=frozenset(incomplete))


async def _events(
    host: str, repository: str, image: dict[str, Any], resolve_digest: DigestResolver | None
) -> tuple[list[ImageDiscovered], bool]:
    """The sightings of one ECR image (one per tag), and whether every tag could be read."""
    ecr_digest = str(image.get("imageDigest", ""))
    size = int(image.get("imageSizeInBytes") or 0)
    found: list[ImageDiscovered] = []
    complete = True
    for tag in sorted(image.get("imageTags") or [""]):
        digest = ecr_digest
        if resolve_digest is not None and tag:
            try:
                digest = await resolve_digest(host, repository, tag)
            except RegistryError as exc:
                log.warning(
                    "inventory: ECR %s/%s:%s: cannot resolve on the data plane: %s",
                    host,
                    repository,
                    tag,
                    exc,
                )
                complete = False
                continue
        if not digest.startswith("sha256:"):
            log.warning("inventory: ECR %s/%s:%s: no usable digest (%r)", host, repository, tag, digest)
            complete = False
            continue
        found.append(
            ImageDiscovered(
                environment=f"registry:{host}",
                registry=host,
                repository=repository,
                tag=tag,
                digest=digest,
                size_bytes=size,
                discovered_at=utcnow(),
            )
        )
    return found, complete
