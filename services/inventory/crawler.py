"""The registry crawl: every tag of every repository, resolved to a digest, as a polling source.

One pass lists each crawled registry's catalog (or its configured repositories), each repository's
tags, and resolves each tag to its manifest digest. ``deltas`` turns passes into the events to
publish: new and moved tags, and removals of tags that are gone. A repository whose tags cannot be
listed, or one of whose tags cannot be resolved, is logged and never read as deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from schemas.events import ImageDiscovered
from services.common.clock import utcnow
from services.common.config import RegistryConfig
from services.common.errors import RegistryError
from services.inventory.deltas import Pass
from services.oci.reference import parse_reference
from services.oci.registry import RegistryClient, is_host_pattern

__all__ = ["RegistryCrawl", "crawl_registry"]

log = logging.getLogger(__name__)


async def crawl_registry(client: RegistryClient, registry: RegistryConfig) -> Pass:
    """One registry's tagged images; ``RegistryError`` when its catalog cannot be listed."""
    environment = f"registry:{registry.host}"
    repositories = list(registry.repositories) or await client.catalog(registry.host)
    events: list[ImageDiscovered] = []
    incomplete: set[tuple[str, str]] = set()
    for repo in sorted(repositories):
        try:
            tags = await client.tags(registry.host, repo)
        except RegistryError as exc:
            log.warning("inventory: %s/%s: cannot list tags: %s", registry.host, repo, exc)
            incomplete.add((environment, repo))
            continue
        for tag in sorted(tags):
            try:
                digest = await client.resolve_digest(parse_reference(f"{registry.host}/{repo}:{tag}"))
            except RegistryError as exc:
                log.warning("inventory: %s/%s:%s: cannot resolve: %s", registry.host, repo, tag, exc)
                incomplete.add((environment, repo))
                continue
            events.append(
                ImageDiscovered(
                    environment=environment,
                    registry=registry.host,
                    repository=repo,
                    tag=tag,
                    digest=digest,
                    discovered_at=utcnow(),
                    ou=registry.ou,
                )
            )
    return Pass(events=events, environments=frozenset({environment}), incomplete=frozenset(incomplete))


class RegistryCrawl:
    """``Poller`` over the registries marked for crawling (glob hosts of node daemons have no catalog)."""

    name = "registry crawl"

    def __init__(self, client: RegistryClient, registries: Sequence[RegistryConfig]) -> None:
        self._client = client
        self._registries = [r for r in registries if r.crawl and not is_host_pattern(r.host)]

    async def poll(self) -> Pass:
        events: list[ImageDiscovered] = []
        environments: set[str] = set()
        incomplete: set[tuple[str, str]] = set()
        for registry in self._registries:
            try:
                found = await crawl_registry(self._client, registry)
            except RegistryError as exc:
                log.warning("inventory: %s: cannot list the catalog: %s", registry.host, exc)
                continue
            events.extend(found.events)
            environments |= found.environments
            incomplete |= found.incomplete
        return Pass(events=events, environments=frozenset(environments), incomplete=frozenset(incomplete))
