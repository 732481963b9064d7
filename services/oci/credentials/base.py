"""What a credential provider is, and the chain that asks several in turn.

A provider answers one question: "which credentials for this registry host?" (the API host,
``registry-1.docker.io`` for Docker Hub), or None when it has none. It never sees a URL, a
realm or a repository, so a provider cannot hand a registry's secret to another host: where the
answer may then travel (the registry itself, its own token realm, its ``auth_hosts``) is decided
by ``RegistryClient`` alone (``services/oci/auth.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from services.common.errors import AssayError
from services.oci.reference import api_host_for

__all__ = ["CredentialChain", "CredentialProvider", "Credentials", "registry_host_of"]

log = logging.getLogger(__name__)

_DOCKER_HUB_KEYS = frozenset(
    {"index.docker.io", "docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)


@dataclass(frozen=True)
class Credentials:
    """A username and password for Basic auth (or to ask a token realm with), or an identity token.

    ``identity_token`` is an OAuth2 refresh token (docker ``config.json``'s ``identitytoken``, a
    credential helper answering user ``<token>``): it is traded at the registry's realm with
    ``grant_type=refresh_token`` instead of being sent as a password. ``repr`` never shows secrets.
    """

    username: str
    password: str = ""
    identity_token: str = ""

    def __repr__(self) -> str:
        kind = "identity token" if self.identity_token else "password"
        return f"Credentials(username={self.username!r}, {kind}=<redacted>)"


@runtime_checkable
class CredentialProvider(Protocol):
    """Credentials for one registry API host, or None; ``name`` says where they come from (logs)."""

    name: str

    async def credentials(self, host: str) -> Credentials | None:
        """The credentials for ``host`` (``registry.example:5000``), None when this provider has none."""
        ...


def registry_host_of(key: str) -> str:
    """The API host a credentials key names: ``https://index.docker.io/v1/`` -> ``registry-1.docker.io``.

    Keys in ``config.json`` and pull secrets are URLs or bare hosts, with or without a path.
    """
    key = key.strip()
    netloc = urlsplit(key).netloc if "://" in key else key.split("/", 1)[0]
    netloc = netloc.lower()
    if netloc in _DOCKER_HUB_KEYS:
        return api_host_for("docker.io")
    return api_host_for(netloc)


class CredentialChain:
    """Asks its providers in order; the first answer wins (``RegistryClient``'s ``credentials_provider``).

    A provider that fails (a helper that crashes, a metadata server that is down) is logged, by
    provider name and host only, and the next one is asked.
    """

    name = "chain"

    def __init__(self, providers: Sequence[CredentialProvider]) -> None:
        self.providers = tuple(providers)

    async def credentials(self, host: str) -> Credentials | None:
        """The first provider's answer for ``host``; None when none has credentials for it."""
        for provider in self.providers:
            try:
                found = await provider.credentials(host)
            except AssayError as exc:
                log.warning("credentials for %s: %s failed: %s", host, provider.name, exc)
                continue
            if found is not None:
                log.debug("credentials for %s from %s", host, provider.name)
                return found
        return None

    async def __call__(self, host: str) -> Credentials | None:
        return await self.credentials(host)
