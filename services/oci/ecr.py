"""ECR registry credentials: ``get_authorization_token``, cached until shortly before it expires.

ECR's data plane (``<account>.dkr.ecr.<region>.amazonaws.com``) takes Basic auth with user
``AWS`` and a 12-hour token from the control plane. ``EcrCredentials`` is a credentials
provider for ``RegistryClient`` (its ``credentials_provider`` hook): for an ECR host it
returns ``("AWS", token)``, fetching a token for that account and region when none is cached
or the cached one expires within ``margin_s``; for any other host it returns None.

The clock is injectable (wall-clock seconds, since ``expiresAt`` is absolute). moto answers
with ``expiresAt`` 2015-01-01, already expired: every call then fetches a new token, which
is correct behaviour for an expired token (see the tests).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from services.common.errors import RegistryError
from services.oci.credentials.base import Credentials

__all__ = ["ECR_HOST_RE", "EcrCredentials", "EcrHost", "parse_ecr_host"]

log = logging.getLogger(__name__)

ECR_HOST_RE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$"
)


@dataclass(frozen=True)
class EcrHost:
    """The account and region an ECR registry host names."""

    account: str
    region: str


def parse_ecr_host(host: str) -> EcrHost | None:
    """``123456789012.dkr.ecr.us-east-1.amazonaws.com`` -> its account and region; None otherwise."""
    match = ECR_HOST_RE.match(host.lower())
    return EcrHost(match["account"], match["region"]) if match else None


class ClientSource(Protocol):
    """Where ECR clients come from (``AwsClients``)."""

    async def client(self, service: str, region: str = "") -> Any: ...


@dataclass(frozen=True)
class _Token:
    username: str
    password: str
    expires_at: float  # wall-clock seconds


class EcrCredentials:
    """A ``RegistryClient`` credentials provider for ECR hosts (see the module docstring).

    ``token_calls`` counts ``get_authorization_token`` requests (observability and tests).
    """

    def __init__(
        self, clients: ClientSource, *, margin_s: float = 300.0, clock: Callable[[], float] = time.time
    ) -> None:
        self._clients = clients
        self._margin_s = margin_s
        self._clock = clock
        self._tokens: dict[EcrHost, _Token] = {}
        self._locks: dict[EcrHost, asyncio.Lock] = {}
        self.token_calls = 0

    name = "ecr"

    async def credentials(self, host: str) -> Credentials | None:
        """The ``CredentialProvider`` face: ``AWS`` and a current token for an ECR host."""
        found = await self(host)
        return Credentials(*found) if found is not None else None

    async def __call__(self, host: str) -> tuple[str, str] | None:
        """``(username, password)`` for an ECR host, None for any other host."""
        ecr = parse_ecr_host(host)
        if ecr is None:
            return None
        lock = self._locks.setdefault(ecr, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(ecr)
            if cached is None or cached.expires_at - self._margin_s <= self._clock():
                cached = await self._fetch(ecr, host)
                self._tokens[ecr] = cached
            return cached.username, cached.password

    async def _fetch(self, ecr: EcrHost, host: str) -> _Token:
        what = f"{host}: ECR authorization token"
        self.token_calls += 1
        try:
            client = await self._clients.client("ecr", ecr.region)
            response = await client.get_authorization_token(registryIds=[ecr.account])
        except (BotoCoreError, ClientError) as exc:
            raise RegistryError(f"{what}: {exc}", retryable=True) from exc
        data = response.get("authorizationData") or []
        if not data or not isinstance(data[0], dict):
            raise RegistryError(f"{what}: the answer holds no authorizationData")
        try:
            decoded = base64.b64decode(data[0]["authorizationToken"], validate=True).decode()
        except (KeyError, binascii.Error, UnicodeDecodeError) as exc:
            raise RegistryError(f"{what}: unreadable authorizationToken: {exc}") from exc
        username, sep, password = decoded.partition(":")
        if not sep or not password:
            raise RegistryError(f"{what}: authorizationToken is not USER:PASSWORD")
        expires = data[0].get("expiresAt")
        expires_at = expires.timestamp() if isinstance(expires, datetime) else self._clock()
        if expires_at <= self._clock():
            log.debug(
                "%s: the token is already expired (%s); it will be fetched again next time", what, expires
            )
        return _Token(username, password, expires_at)
