"""AWS inventory: ECR repositories and ECS/Fargate tasks.

``ecr`` crawls ECR's control plane, ``ecs`` lists Running ECS tasks (clients from
``services/common/aws.py``). ``EcrPoller`` and ``EcsPoller`` are the ``Poller``s
``assay service inventory`` runs beside the registry crawl (``polling.PollingSource`` publishes
their deltas). Registry clients, ECR tokens included, come from ``services.oci.credentials.build``.
"""

from __future__ import annotations

from services.common.aws import AwsClients
from services.common.config import AwsConfig
from services.inventory.aws.ecr import DigestResolver, crawl_ecr
from services.inventory.aws.ecs import ecs_sightings
from services.inventory.deltas import Pass
from services.oci.reference import parse_reference
from services.oci.registry import RegistryClient

__all__ = [
    "AwsClients",
    "EcrPoller",
    "EcsPoller",
    "crawl_ecr",
    "ecs_sightings",
    "registry_resolver",
]


def registry_resolver(client: RegistryClient) -> DigestResolver:
    """Resolve ``(host, repository, tag)`` to the digest the registry (data plane) serves."""

    async def resolve(host: str, repository: str, tag: str) -> str:
        return await client.resolve_digest(parse_reference(f"{host}/{repository}:{tag}"))

    return resolve


class EcrPoller:
    """``Poller`` over ECR's control plane (``aws.ecr``); ``registry`` resolves tags on the data
    plane when registry host overrides are configured. Deleted tags and images are removed on the
    next pass (or at once, with EventBridge notifications: ``webhooks.ecr``)."""

    name = "ecr"

    def __init__(self, clients: AwsClients, config: AwsConfig, registry: RegistryClient) -> None:
        self._clients = clients
        self._config = config
        self._resolver = registry_resolver(registry) if config.registry_host_overrides else None

    async def poll(self) -> Pass:
        ecr = await self._clients.client("ecr")
        return await crawl_ecr(ecr, self._config, resolve_digest=self._resolver)


class EcsPoller:
    """``Poller`` over the Running tasks of ECS clusters (``aws.ecs``); ``registry`` resolves tags of
    containers ECS reports no ``imageDigest`` for. Clusters listed in full are complete: an image
    whose last task stopped is removed."""

    name = "ecs"

    def __init__(self, clients: AwsClients, config: AwsConfig, registry: RegistryClient) -> None:
        self._clients = clients
        self._config = config
        self._resolver = registry_resolver(registry)

    async def poll(self) -> Pass:
        ecs = await self._clients.client("ecs")
        polled: set[str] = set()
        found = [
            e async for e in ecs_sightings(ecs, self._config, resolve_digest=self._resolver, polled=polled)
        ]
        return Pass(events=found, environments=frozenset(polled))
