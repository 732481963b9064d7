"""An async client for the OCI distribution API (``/v2/``), on one aiohttp session.

Every manifest and blob is checked against its digest while it is read; blobs stream in
chunks of at most 1 MiB and are never held whole. HTTPS always, plain HTTP only for a
host whose ``RegistryConfig`` says ``insecure``. Transient failures (429, 5xx, connection
errors) are retried with backoff (``RetryPolicy``); other 4xx raise ``RegistryError`` with
the status. Authentication follows the registry's challenge (``registry_auth``).

Usage::

    async with RegistryClient(settings.registries) as client:
        digest = await client.resolve_digest(parse_reference("127.0.0.1:5000/app:1.0"))
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urljoin

import aiohttp
import msgspec

from services.common.config import RegistryConfig
from services.common.errors import LayerError, RegistryError
from services.oci.auth import (
    DOCKER_HUB_API,
    DOCKER_HUB_AUTH,
    RegistryAuth,
    RetryPolicy,
    error_detail,
    next_link,
    read_limited,
    realm_refusal,
    same_origin,
    send_with_retries,
)
from services.oci.credentials.base import Credentials
from services.oci.credentials.static import is_host_pattern, match_registry
from services.oci.digest import CHUNK_SIZE, MAX_METADATA_BYTES, DigestVerifier
from services.oci.manifest import MANIFEST_ACCEPT
from services.oci.nodetoken import NodeTokenMinter
from services.oci.reference import Reference, api_host_for

__all__ = ["CredentialsProvider", "FetchedManifest", "RegistryClient", "RetryPolicy", "is_host_pattern"]

CredentialsProvider = Callable[[str], Awaitable[Credentials | tuple[str, str] | None]]
"""``host -> Credentials`` asked before requests (a ``CredentialChain``, ECR tokens); None: the config."""

_CATALOG_SCOPE = "registry:catalog:*"


@dataclass(frozen=True)
class FetchedManifest:
    """A manifest or index as served: its bytes, ``Content-Type`` and verified digest."""

    data: bytes
    media_type: str
    digest: str


def _pull_scope(repository: str) -> str:
    return f"repository:{repository}:pull"


class RegistryClient:
    """Talks to any number of registries; configure each host with a ``RegistryConfig``.

    Use as an async context manager (or call ``start``/``close``). Hosts may be given as
    registry names (``docker.io``) or API hosts (``registry-1.docker.io``).
    """

    def __init__(
        self,
        registries: Sequence[RegistryConfig] = (),
        *,
        retry: RetryPolicy | None = None,
        timeout: aiohttp.ClientTimeout | None = None,
        user_agent: str = "assay/0.1",
        credentials_provider: CredentialsProvider | None = None,
        host_overrides: Mapping[str, str] | None = None,
    ) -> None:
        self._registries = list(registries)
        # a provider's answer wins over configured credentials; it caches (and refreshes) itself
        self._provider = credentials_provider
        self._provided: dict[str, Credentials] = {}
        # fnmatch pattern -> host serving that registry's data plane (a mirror; tests: ECR -> local)
        self._overrides = dict(host_overrides or {})
        self._retry = retry or RetryPolicy()
        self._timeout = timeout or aiohttp.ClientTimeout(total=None, connect=30, sock_read=120)
        self._user_agent = user_agent
        self._rng = random.Random()
        self._session: aiohttp.ClientSession | None = None
        self._auth = RegistryAuth(
            self._credentials,
            self._token_endpoint,
            realm_refusal=self._realm_refusal,
            send_form=lambda url, form: self._token_endpoint(url, {}, {}, form),
            mint=NodeTokenMinter(self._node_key),
        )

    async def start(self) -> RegistryClient:
        """Open the HTTP session (idempotent)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, headers={"User-Agent": self._user_agent}
            )
        return self

    async def close(self) -> None:
        """Close the HTTP session."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def __aenter__(self) -> RegistryClient:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------ configuration

    def config_for(self, host: str) -> RegistryConfig | None:
        """The configuration for ``host`` (registry name or API host), if any.

        An exact host wins; then a host given as a glob (``*:5050``, ``10.0.*``: the node daemons of a
        cluster, whose addresses are pod IPs) matches by ``fnmatch``.
        """
        return match_registry(self._registries, host)

    def base_url(self, host: str) -> str:
        """``https://HOST`` (or ``http://`` for a host configured insecure), HOST the API host."""
        target = self.serving_host(host)
        reg = self.config_for(target) or self.config_for(host)
        scheme = "http" if reg is not None and reg.insecure else "https"
        return f"{scheme}://{target}"

    def serving_host(self, host: str) -> str:
        """The API host that answers for ``host``: its override's target, else its own API host."""
        api_host = api_host_for(host)
        for pattern, target in self._overrides.items():
            if fnmatch.fnmatchcase(api_host, pattern):
                return target
        return api_host

    def _registry(self, host: str) -> RegistryConfig | None:
        return self.config_for(host) or self.config_for(self.serving_host(host))

    def _credentials(self, host: str) -> Credentials | None:
        provided = self._provided.get(host)
        if provided is not None:
            return provided
        reg = self._registry(host)
        if reg is None or not reg.username:
            return None
        return Credentials(reg.username, reg.password)

    def _node_key(self, host: str) -> str:
        """The signing key for node-daemon pull tokens to ``host`` ("" when it is not a node daemon)."""
        reg = self._registry(host)
        return reg.node_key if reg is not None else ""

    def _realm_refusal(self, host: str, realm: str, with_credentials: bool) -> str | None:
        """Why the token realm ``host`` named may not be asked (None: it may): ``realm_refusal``."""
        reg = self._registry(host)
        own = {api_host_for(host), self.serving_host(host)}
        if api_host_for(host) == DOCKER_HUB_API:
            own.add(DOCKER_HUB_AUTH)
        return realm_refusal(
            realm,
            allowed_hosts=[*own, *(reg.auth_hosts if reg is not None else ())],
            insecure=reg is not None and reg.insecure,
            with_credentials=with_credentials,
        )

    # ------------------------------------------------------------------ transport

    def _require_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RegistryError("RegistryClient used before start() or after close()")
        return self._session

    async def _token_endpoint(
        self, url: str, params: dict[str, str], headers: dict[str, str], form: dict[str, str] | None = None
    ) -> aiohttp.ClientResponse:
        """GET ``url`` (a token realm) with ``params``, or POST it ``form`` (an identity token's trade)."""
        session = self._require_session()
        method = "GET" if form is None else "POST"
        return await send_with_retries(
            lambda: session.request(method, url, params=params, headers=headers, data=form),
            policy=self._retry,
            rng=self._rng,
            what=f"token endpoint {url}",
        )

    async def request(
        self,
        method: str,
        host: str,
        path: str,
        *,
        scope: str,
        headers: dict[str, str] | None = None,
        what: str = "",
    ) -> aiohttp.ClientResponse:
        """Send an authenticated request with retries; the caller must release the response.

        ``path`` is relative to the host (``/v2/...``) or absolute (a ``Link`` target). Any
        status >= 400 left after retries and one auth round raises ``RegistryError``.
        """
        session = self._require_session()
        base = self.base_url(host)
        url = urljoin(base + "/", path)
        what = what or f"{method} {url}"
        if not same_origin(url, base):
            # a Link (or any other absolute URL a registry hands back) on another origin would
            # get this registry's Authorization header, and its answer would be trusted
            raise RegistryError(f"{what}: refused to follow {url}: not on {base}")
        answered_challenge = False
        auth: str | None = None
        if self._provider is not None:
            provided = await self._provider(host)
            if provided is not None:
                self._provided[host] = (
                    provided if isinstance(provided, Credentials) else Credentials(*provided)
                )
        while True:
            sent = dict(headers or {})
            auth = auth or await self._auth.header(host, scope)
            if auth is not None:
                sent["Authorization"] = auth
            response = await send_with_retries(
                functools.partial(session.request, method, url, headers=sent),
                policy=self._retry,
                rng=self._rng,
                what=f"{what}: {method} {url}",
            )
            if response.status == 401 and not answered_challenge:
                challenge = response.headers.get("WWW-Authenticate", "")
                response.release()
                if not challenge:
                    raise RegistryError(f"{what}: 401 unauthorized without a challenge", status=401)
                auth = await self._auth.on_challenge(host, challenge, scope, what)
                answered_challenge = True
                continue
            if response.status >= 400:
                detail = await error_detail(response)
                response.release()
                hint = " (wrong credentials?)" if response.status == 401 else ""
                raise RegistryError(
                    f"{what}: HTTP {response.status} {detail}{hint}".rstrip(),
                    status=response.status,
                    retryable=response.status in (429, 500, 502, 503, 504),
                )
            return response

    # ------------------------------------------------------------------ manifests and blobs

    async def get_manifest(self, ref: Reference, reference: str = "") -> FetchedManifest:
        """GET a manifest or index by tag or digest (``reference`` overrides the ref's own).

        The digest is the sha256 of the bytes; it must equal the digest asked for and the
        ``Docker-Content-Digest`` header when present, else ``RegistryError``.
        """
        wanted = reference or ref.manifest_ref
        what = f"{ref.name}: manifest {wanted}"
        response = await self.request(
            "GET",
            ref.api_host,
            f"/v2/{ref.repository}/manifests/{wanted}",
            scope=_pull_scope(ref.repository),
            headers={"Accept": MANIFEST_ACCEPT},
            what=what,
        )
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        header_digest = response.headers.get("Docker-Content-Digest", "")
        data = await read_limited(response, MAX_METADATA_BYTES, what)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        expected = wanted if wanted.startswith("sha256:") else header_digest
        if expected.startswith("sha256:") and expected != digest:
            raise RegistryError(f"{what}: digest mismatch: expected {expected}, got {digest}")
        return FetchedManifest(data, media_type, digest)

    async def resolve_digest(self, ref: Reference) -> str:
        """The manifest digest a tag points at: HEAD's ``Docker-Content-Digest``, else GET and hash."""
        if ref.digest:
            return ref.digest
        response = await self.request(
            "HEAD",
            ref.api_host,
            f"/v2/{ref.repository}/manifests/{ref.tag}",
            scope=_pull_scope(ref.repository),
            headers={"Accept": MANIFEST_ACCEPT},
            what=f"{ref.name}: manifest {ref.tag}",
        )
        digest = response.headers.get("Docker-Content-Digest", "")
        response.release()
        if digest.startswith("sha256:"):
            return digest
        return (await self.get_manifest(ref)).digest

    async def read_blob(self, ref: Reference, digest: str, *, limit: int = MAX_METADATA_BYTES) -> bytes:
        """A small blob (a config) whole, verified; ``RegistryError`` on mismatch."""
        what = f"{ref.name}: blob {digest}"
        response = await self.request(
            "GET",
            ref.api_host,
            f"/v2/{ref.repository}/blobs/{digest}",
            scope=_pull_scope(ref.repository),
            what=what,
        )
        data = await read_limited(response, limit, what)
        verifier = DigestVerifier(digest)
        verifier.update(data)
        verifier.check(what, RegistryError)
        return data

    async def stream_blob(
        self, ref: Reference, digest: str, *, size: int | None = None, what: str = ""
    ) -> AsyncIterator[bytes]:
        """Stream a blob in chunks of at most 1 MiB, verifying digest (and size) at the end.

        A mismatch, short read or broken connection raises ``LayerError`` naming ``what``
        (default: the repository and digest); more bytes than ``size`` raise as soon as they come.
        """
        what = what or f"{ref.name}: blob {digest}"
        verifier = DigestVerifier(digest, size or None)
        response = await self.request(
            "GET",
            ref.api_host,
            f"/v2/{ref.repository}/blobs/{digest}",
            scope=_pull_scope(ref.repository),
            what=what,
        )
        try:
            async for chunk in response.content.iter_chunked(CHUNK_SIZE):
                verifier.update(chunk)
                if size and verifier.count > size:
                    # cut at the declared size: a hostile registry cannot stream past it
                    raise LayerError(f"{what}: the registry sent more than the declared {size} bytes")
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise LayerError(f"{what}: download failed after {verifier.count} bytes: {exc}") from exc
        finally:
            response.release()
        verifier.check(what, LayerError)

    # ------------------------------------------------------------------ inventory

    async def _paginate(self, host: str, path: str, key: str, scope: str, what: str) -> list[str]:
        out: list[str] = []
        next_path: str | None = path
        while next_path is not None:
            response = await self.request("GET", host, next_path, scope=scope, what=what)
            link = next_link(response.headers.get("Link"))
            data = await read_limited(response, MAX_METADATA_BYTES, what)
            try:
                doc: Any = msgspec.json.decode(data)
            except msgspec.DecodeError as exc:
                raise RegistryError(f"{what}: invalid JSON: {exc}") from exc
            items = doc.get(key) if isinstance(doc, dict) else None
            out.extend(str(i) for i in items or [])
            next_path = link
        return out

    async def catalog(self, host: str, *, page_size: int | None = None) -> list[str]:
        """Every repository in ``host``'s catalog, following ``Link`` pages."""
        query = f"?n={page_size}" if page_size else ""
        return await self._paginate(
            host, f"/v2/_catalog{query}", "repositories", _CATALOG_SCOPE, f"{host}: catalog"
        )

    async def tags(self, host: str, repository: str, *, page_size: int | None = None) -> list[str]:
        """Every tag of ``repository`` on ``host``, following ``Link`` pages."""
        query = f"?n={page_size}" if page_size else ""
        return await self._paginate(
            host,
            f"/v2/{repository}/tags/list{query}",
            "tags",
            _pull_scope(repository),
            f"{host}/{repository}: tags",
        )
