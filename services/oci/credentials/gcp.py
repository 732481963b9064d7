"""Google Artifact Registry and Container Registry: OAuth2 access tokens as registry passwords.

GAR (``<location>-docker.pkg.dev``) and GCR (``gcr.io``, ``<region>.gcr.io``) take Basic auth with
user ``oauth2accesstoken`` and an OAuth2 access token as the password. The token comes from:

- a file (``gcp_token_file``) holding the output of ``gcloud auth print-access-token`` or of any
  sidecar that refreshes it, read at each ask; or
- the GCE/GKE metadata server (workload identity on GKE): ``GET <metadata>/computeMetadata/v1/
  instance/service-accounts/default/token`` with ``Metadata-Flavor: Google``, answering
  ``{"access_token", "expires_in", "token_type"}``; cached until shortly before it expires.

A service-account key needs no provider: configure user ``_json_key`` with the key's JSON as the
password (``static.py``).
"""

from __future__ import annotations

import asyncio
import fnmatch
import re
import time
from collections.abc import Callable, Sequence

from services.common.errors import RegistryError
from services.oci.credentials.base import Credentials
from services.oci.credentials.http import fetch_json, read_token_file

__all__ = ["GCP_HOST_RE", "GcpCredentials"]

GCP_HOST_RE = re.compile(r"^(?:(?:[a-z0-9-]+\.)?gcr\.io|[a-z0-9-]+-docker\.pkg\.dev)$")
USERNAME = "oauth2accesstoken"
_TOKEN_PATH = "/computeMetadata/v1/instance/service-accounts/default/token"
_MARGIN_S = 60.0


class GcpCredentials:
    """Access tokens for Google's registries (and any host matching ``extra_hosts`` globs)."""

    name = "gcp"

    def __init__(
        self,
        *,
        metadata_url: str = "",
        token_file: str = "",
        extra_hosts: Sequence[str] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not metadata_url and not token_file:
            raise ValueError("GcpCredentials needs a metadata server URL or a token file")
        self._metadata_url = metadata_url.rstrip("/")
        self._token_file = token_file
        self._extra = tuple(extra_hosts)
        self._clock = clock
        self._token: tuple[str, float] | None = None
        self._lock = asyncio.Lock()

    def serves(self, host: str) -> bool:
        """Is ``host`` one of Google's registries (or an extra host)?"""
        return bool(GCP_HOST_RE.match(host.lower())) or any(fnmatch.fnmatchcase(host, p) for p in self._extra)

    async def credentials(self, host: str) -> Credentials | None:
        """``oauth2accesstoken`` and a current access token for a Google registry; None elsewhere."""
        if not self.serves(host):
            return None
        if self._token_file:
            return Credentials(USERNAME, self._read_token_file())
        async with self._lock:
            if self._token is None or self._token[1] <= self._clock():
                self._token = await self._from_metadata()
            return Credentials(USERNAME, self._token[0])

    def _read_token_file(self) -> str:
        return read_token_file(self._token_file, "GCP access token file")

    async def _from_metadata(self) -> tuple[str, float]:
        what = f"GCP metadata server {self._metadata_url}: access token"
        doc, headers = await fetch_json(
            "GET", self._metadata_url + _TOKEN_PATH, what=what, headers={"Metadata-Flavor": "Google"}
        )
        if headers.get("Metadata-Flavor") != "Google":
            raise RegistryError(f"{what}: the answer lacks Metadata-Flavor: Google (not a metadata server)")
        token = doc.get("access_token")
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{what}: the answer holds no access_token")
        expires_in = doc.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 300.0
        return token, self._clock() + max(0.0, lifetime - min(_MARGIN_S, lifetime / 2))
