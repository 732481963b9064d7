"""The credential chain a service builds from its settings, and the clients that use it.

Order: the configuration (``registries``: usernames, robot accounts, ``_json_key``), then the
docker ``config.json`` (its helpers included), then the cloud providers for their own hosts (ECR,
GAR/GCR, ACR). A registry configured with a username is never asked of a helper or a cloud.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from services.common.aws import AwsClients
from services.common.config import RegistryConfig
from services.oci.credentials.acr import AcrCredentials
from services.oci.credentials.base import CredentialChain, CredentialProvider
from services.oci.credentials.dockerconfig import DockerConfigCredentials
from services.oci.credentials.gcp import GcpCredentials
from services.oci.credentials.helpers import HelperRunner
from services.oci.credentials.static import StaticCredentials, match_registry
from services.oci.ecr import EcrCredentials
from services.oci.registry import RegistryClient
from services.oci.settings import CredentialsConfig

if TYPE_CHECKING:
    from services.settings import Settings

log = logging.getLogger(__name__)

__all__ = [
    "ChainClients",
    "ClientFactory",
    "clients_for",
    "credential_chain",
    "pulling_with",
    "registry_client_factory",
]

ClientFactory = Callable[[Sequence[RegistryConfig]], RegistryClient]


def credential_chain(
    config: CredentialsConfig,
    registries: Sequence[RegistryConfig],
    *,
    ecr: CredentialProvider | None = None,
    extra: Sequence[CredentialProvider] = (),
) -> CredentialChain:
    """The providers ``config`` turns on, in the module's order; ``ConfigError`` for a broken config.json."""
    providers: list[CredentialProvider] = [StaticCredentials(registries)]
    if config.docker_config:
        runner = HelperRunner(timeout_s=config.helper_timeout_s)
        providers.append(DockerConfigCredentials.from_file(config.docker_config, helpers=runner))
    providers.extend(extra)
    if ecr is not None:
        providers.append(ecr)
    if config.gcp or config.gcp_token_file:
        metadata = config.gcp_metadata_url if config.gcp else ""
        providers.append(GcpCredentials(metadata_url=metadata, token_file=config.gcp_token_file))
    if config.azure_token_file:

        def scheme(host: str) -> str:
            reg = match_registry(registries, host)
            return "http" if reg is not None and reg.insecure else "https"

        providers.append(
            AcrCredentials(token_file=config.azure_token_file, tenant=config.azure_tenant, scheme=scheme)
        )
    return CredentialChain(providers)


class ChainClients:
    """Makes ``RegistryClient``s that take credentials from one chain (and follow host overrides)."""

    def __init__(self, chain: CredentialChain, host_overrides: Mapping[str, str] | None = None) -> None:
        self.chain = chain
        self.host_overrides = dict(host_overrides or {})

    def __call__(self, registries: Sequence[RegistryConfig]) -> RegistryClient:
        return RegistryClient(registries, credentials_provider=self.chain, host_overrides=self.host_overrides)

    def first(self, provider: CredentialProvider) -> ChainClients:
        """The same clients, asking ``provider`` before the rest of the chain (one pull's own)."""
        return ChainClients(CredentialChain([provider, *self.chain.providers]), self.host_overrides)


def registry_client_factory(
    chain: CredentialChain, host_overrides: Mapping[str, str] | None = None
) -> ChainClients:
    """Build ``RegistryClient``s that take credentials from ``chain`` (and follow host overrides)."""
    return ChainClients(chain, host_overrides)


def pulling_with(factory: ClientFactory | None, provider: CredentialProvider | None) -> ClientFactory | None:
    """``factory`` with ``provider`` asked first (a pod's pull secrets, for one pull).

    No factory: plain clients (the configured credentials) behind ``provider``. A factory that is not
    a ``ChainClients`` (a test's) cannot take a provider and is returned as it is.
    """
    if provider is None:
        return factory
    if factory is None:
        return ChainClients(CredentialChain([provider]))
    if isinstance(factory, ChainClients):
        return factory.first(provider)
    log.warning("%s: not asked: the registry clients take no extra provider", provider.name)
    return factory


def clients_for(settings: Settings, aws: AwsClients | None = None) -> ClientFactory:
    """The registry clients a service pulls with: every provider ``settings`` turns on (ECR with ``aws``).

    Built once per process (a broken ``config.json`` is a ``ConfigError`` at start-up); each
    client it makes shares the chain, so tokens and helper answers are cached across scans.
    """
    ecr = EcrCredentials(aws, margin_s=settings.aws.ecr_token_margin_s) if aws is not None else None
    chain = credential_chain(settings.credentials, settings.registries, ecr=ecr)
    return registry_client_factory(chain, settings.aws.registry_host_overrides)
