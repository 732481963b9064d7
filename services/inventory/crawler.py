"""The inventory service's registry crawler: every tag of every repository, resolved to a digest.

Clusters (issue 7) add more discoverers beside this one; each yields ``ImageDiscovered``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence

from schemas.events import ImageDiscovered
from services.common.clock import utcnow
from services.common.config import RegistryConfig
from services.common.errors import RegistryError
from services.oci.reference import parse_reference
from services.oci.registry import RegistryClient, is_host_pattern

log = logging.getLogger(__name__)


async def crawl_registry(client: RegistryClient, registry: RegistryConfig) -> AsyncIterator[ImageDiscovered]:
    """Discover every tagged image in one registry; a repository that fails is logged and skipped."""
    repositories = list(registry.repositories) or await client.catalog(registry.host)
    for repo in sorted(repositories):
        try:
            tags = await client.tags(registry.host, repo)
        except RegistryError as exc:
            log.warning("inventory: %s/%s: cannot list tags: %s", registry.host, repo, exc)
            continue
        for tag in sorted(tags):
            try:
                digest = await client.resolve_digest(parse_reference(f"{registry.host}/{repo}:{tag}"))
            except RegistryError as exc:
                log.warning("inventory: %s/%s:%s: cannot resolve: %s", registry.host, repo, tag, exc)
                continue
            yield ImageDiscovered(
                environment=f"registry:{registry.host}",
                registry=registry.host,
                repository=repo,
                tag=tag,
                digest=digest,
                discovered_at=utcnow(),
                ou=registry.ou,
            )


async def crawl(
    client: RegistryClient, registries: Sequence[RegistryConfig]
) -> AsyncIterator[ImageDiscovered]:
    """Discover images in every registry marked for crawling."""
    for registry in registries:
        if not registry.crawl or is_host_pattern(registry.host):
            continue  # a glob host (node daemons: ``*:5050``) names many hosts and has no catalog
        try:
            async for event in crawl_registry(client, registry):
                yield event
        except RegistryError as exc:
            log.warning("inventory: %s: cannot list the catalog: %s", registry.host, exc)
