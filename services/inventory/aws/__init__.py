"""AWS inventory and access: ECR repositories, ECS/Fargate tasks, ECR registry credentials.

``clients`` opens aiobotocore clients from ``AwsConfig``; ``ecr`` crawls ECR's control plane;
``ecs`` lists Running ECS tasks; ``ecr_auth`` turns ``get_authorization_token`` into registry
credentials for ``RegistryClient``. ``AwsInventory`` is what ``assay service inventory`` runs
beside the registry crawl; ``registry_client_factory`` is how the engine and the inventory
build registry clients that can pull from ECR (and follow registry host overrides).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence

from schemas.events import ImageDiscovered, ImageRemoved
from services.common.aws import AwsClients
from services.common.config import RegistryConfig, Settings
from services.inventory.aws.ecr import DigestResolver, crawl_ecr
from services.inventory.aws.ecs import EcsState, ecs_sightings
from services.oci.ecr import EcrCredentials, parse_ecr_host
from services.oci.reference import parse_reference
from services.oci.registry import CredentialsProvider, RegistryClient

__all__ = [
    "AwsClients",
    "AwsInventory",
    "EcrCredentials",
    "crawl_ecr",
    "credentials_for",
    "ecs_sightings",
    "registry_client_factory",
    "registry_resolver",
]


def _configured_first(
    credentials: EcrCredentials, registries: Sequence[RegistryConfig]
) -> CredentialsProvider:
    """ECR tokens for ECR hosts, unless a ``RegistryConfig`` for the host has a username."""
    configured = {r.host for r in registries if r.username}

    async def provide(host: str) -> tuple[str, str] | None:
        if host in configured or parse_ecr_host(host) is None:
            return None
        return await credentials(host)

    return provide


def registry_client_factory(
    settings: Settings, credentials: EcrCredentials
) -> Callable[[Sequence[RegistryConfig]], RegistryClient]:
    """Build ``RegistryClient``s that authenticate to ECR with tokens and follow host overrides."""

    def make(registries: Sequence[RegistryConfig]) -> RegistryClient:
        return RegistryClient(
            registries,
            credentials_provider=_configured_first(credentials, registries),
            host_overrides=settings.aws.registry_host_overrides,
        )

    return make


def registry_resolver(client: RegistryClient) -> DigestResolver:
    """Resolve ``(host, repository, tag)`` to the digest the registry (data plane) serves."""

    async def resolve(host: str, repository: str, tag: str) -> str:
        return await client.resolve_digest(parse_reference(f"{host}/{repository}:{tag}"))

    return resolve


class AwsInventory:
    """One pass over ECR (``aws.ecr``) and ECS (``aws.ecs``) per ``poll``; remembers ECS state."""

    def __init__(self, settings: Settings, clients: AwsClients, credentials: EcrCredentials) -> None:
        self.settings = settings
        self.clients = clients
        self.credentials = credentials
        self.ecs_state = EcsState()

    @classmethod
    def enabled(cls, settings: Settings) -> bool:
        """Whether any AWS source is configured."""
        return settings.aws.ecr or settings.aws.ecs

    async def poll(self, registry: RegistryClient) -> AsyncIterator[ImageDiscovered | ImageRemoved]:
        """Every ECR image and ECS task image now; then removals of ECS images gone since last time.

        ``registry`` resolves digests on the data plane: always for ECS containers without
        ``imageDigest``, and for ECR tags when registry host overrides are configured.
        """
        aws = self.settings.aws
        resolver = registry_resolver(registry)
        if aws.ecr:
            ecr = await self.clients.client("ecr")
            ecr_resolver = resolver if aws.registry_host_overrides else None
            async for event in crawl_ecr(ecr, aws, resolve_digest=ecr_resolver):
                yield event
        if aws.ecs:
            ecs = await self.clients.client("ecs")
            polled: set[str] = set()
            found = [e async for e in ecs_sightings(ecs, aws, resolve_digest=resolver, polled=polled)]
            sightings, removed = self.ecs_state.diff(found, polled)
            for sighting in sightings:
                yield sighting
            for removal in removed:
                yield removal


def credentials_for(settings: Settings, clients: AwsClients) -> EcrCredentials:
    """The process's ECR credentials provider."""
    return EcrCredentials(clients, margin_s=settings.aws.ecr_token_margin_s)
