"""The engine's registry clients: the credential chain (static, docker config, ECR, ...) and host overrides.

One builder for the engine's long-running worker (``main.py``) and for its analysis children
(``isolate.py``, ``registry_credentials``), so both pull with the same credentials.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.common.aws import AwsClients
from services.oci.credentials.build import ClientFactory, credential_chain, registry_client_factory
from services.oci.ecr import EcrCredentials

if TYPE_CHECKING:
    from services.settings import Settings

__all__ = ["engine_client_factory"]


def engine_client_factory(settings: Settings, aws: AwsClients) -> ClientFactory:
    """Build the ``RegistryClient``s of an engine: credentials from the chain, ECR tokens from ``aws``."""
    ecr = EcrCredentials(aws, margin_s=settings.aws.ecr_token_margin_s)
    chain = credential_chain(settings.credentials, settings.registries, ecr=ecr)
    return registry_client_factory(chain, settings.aws.registry_host_overrides)
