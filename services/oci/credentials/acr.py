"""Azure Container Registry: an AAD access token exchanged for an ACR refresh token.

ACR's documented flow (``docs/AAD-OAuth.md`` of Azure/acr): ``POST https://<registry>/oauth2/exchange``
with the form ``grant_type=access_token``, ``service=<registry>``, ``tenant=<tenant>`` (optional)
and ``access_token=<AAD token>`` answers ``{"refresh_token": "<JWT>"}``. That refresh token is then
the password of the fixed user ``00000000-0000-0000-0000-000000000000`` (as ``az acr login`` writes
it): the registry's Bearer challenge names its own ``/oauth2/token`` realm, which
``RegistryClient`` asks with those Basic credentials for an access token scoped to the repository.
The exchange goes to the registry's own host only, over HTTPS unless the registry is configured
insecure.

The AAD token is read from a file (``azure_token_file``) that workload identity or a sidecar keeps
fresh. The refresh token is cached until shortly before its ``exp`` claim (read, not verified:
only ACR checks it). Tested against a fake speaking this wire format (``tests/oci``), since no ACR
runs here.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import fnmatch
import re
import time
from collections.abc import Callable, Sequence

import msgspec

from services.common.errors import RegistryError
from services.oci.credentials.base import Credentials
from services.oci.credentials.http import fetch_json, read_token_file

__all__ = ["ACR_HOST_RE", "ACR_USERNAME", "AcrCredentials"]

ACR_HOST_RE = re.compile(r"^[a-z0-9]+\.azurecr\.(?:io|cn|us)$")
ACR_USERNAME = "00000000-0000-0000-0000-000000000000"
_MARGIN_S = 300.0
_DEFAULT_LIFETIME_S = 3600.0


def _jwt_exp(token: str) -> float | None:
    """The ``exp`` claim of a JWT, unverified (only to know when to exchange again)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = msgspec.json.decode(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError, msgspec.DecodeError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) else None


class AcrCredentials:
    """ACR refresh tokens for ``*.azurecr.io`` (and hosts matching ``extra_hosts`` globs)."""

    name = "acr"

    def __init__(
        self,
        *,
        token_file: str,
        tenant: str = "",
        extra_hosts: Sequence[str] = (),
        scheme: Callable[[str], str] = lambda host: "https",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._token_file = token_file
        self._tenant = tenant
        self._extra = tuple(extra_hosts)
        self._scheme = scheme
        self._clock = clock
        self._refresh: dict[str, tuple[str, float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.exchanges = 0

    def serves(self, host: str) -> bool:
        """Is ``host`` an ACR registry (or an extra host)?"""
        return bool(ACR_HOST_RE.match(host.lower())) or any(fnmatch.fnmatchcase(host, p) for p in self._extra)

    async def credentials(self, host: str) -> Credentials | None:
        """The fixed user and a refresh token for an ACR host; None for any other host."""
        if not self.serves(host):
            return None
        async with self._locks.setdefault(host, asyncio.Lock()):
            cached = self._refresh.get(host)
            if cached is None or cached[1] <= self._clock():
                cached = await self._exchange(host)
                self._refresh[host] = cached
        return Credentials(ACR_USERNAME, cached[0])

    def _aad_token(self) -> str:
        return read_token_file(self._token_file, "AAD token file")

    async def _exchange(self, host: str) -> tuple[str, float]:
        url = f"{self._scheme(host)}://{host}/oauth2/exchange"
        what = f"{host}: ACR token exchange"
        form = {"grant_type": "access_token", "service": host, "access_token": self._aad_token()}
        if self._tenant:
            form["tenant"] = self._tenant
        self.exchanges += 1
        doc, _ = await fetch_json("POST", url, what=what, form=form)
        refresh = doc.get("refresh_token")
        if not isinstance(refresh, str) or not refresh:
            raise RegistryError(f"{what}: the answer holds no refresh_token")
        now = self._clock()
        exp = _jwt_exp(refresh) or now + _DEFAULT_LIFETIME_S
        return refresh, max(now, exp - min(_MARGIN_S, (exp - now) / 2))
