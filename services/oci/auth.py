"""Registry authentication driven by ``WWW-Authenticate`` challenges, the retry policy, and
where requests and credentials may go (``realm_refusal``, ``same_origin``).

A registry says how it wants to be asked: no challenge (anonymous), ``Basic realm=…``
(credentials from ``RegistryConfig``), or ``Bearer realm=…,service=…[,scope=…]`` (a token
from the realm, fetched with Basic credentials when configured, anonymously otherwise).
The first challenge per host is remembered so later requests authenticate up front;
tokens are cached per (host, scope) until shortly before they expire. A registry names its
token realm and its next pages itself, so neither is trusted: credentials go to a realm only on
the registry's own host or an allow-list, and a ``Link`` is followed only on the same origin.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import random
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp
import msgspec

from services.common.errors import RegistryError
from services.oci.credentials.base import Credentials
from services.oci.digest import CHUNK_SIZE

__all__ = [
    "DOCKER_HUB_API",
    "DOCKER_HUB_AUTH",
    "Challenge",
    "RegistryAuth",
    "RetryPolicy",
    "error_detail",
    "next_link",
    "parse_challenge",
    "read_limited",
    "realm_refusal",
    "same_origin",
    "send_with_retries",
]

DOCKER_HUB_API = "registry-1.docker.io"
DOCKER_HUB_AUTH = "auth.docker.io"
"""Docker Hub's token realm: another host than its API, allowed its credentials without listing."""

_PARAM_RE = re.compile(r'([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))')
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_TOKEN_MARGIN_S = 10.0
_DEFAULT_TOKEN_LIFETIME_S = 60.0


@dataclass(frozen=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge: the scheme (lower case) and its parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)


def parse_challenge(header: str) -> Challenge:
    """Parse ``Bearer realm="…",service="…"`` (or ``Basic realm="…"``)."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _PARAM_RE.finditer(rest)
    }
    return Challenge(scheme.lower(), params)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential backoff and full jitter; ``Retry-After`` wins when given."""

    attempts: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 20.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (0-based ``attempt`` just failed)."""
        if retry_after is not None:
            return min(self.max_delay_s, max(0.0, retry_after))
        backoff = min(self.max_delay_s, self.base_delay_s * (2**attempt))
        return rng.uniform(backoff / 2, backoff)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


async def send_with_retries(
    send: Callable[[], Awaitable[aiohttp.ClientResponse]],
    *,
    policy: RetryPolicy,
    rng: random.Random,
    what: str,
) -> aiohttp.ClientResponse:
    """Call ``send`` until it answers with something other than 429/5xx or attempts run out.

    Connection errors and timeouts are retried too; TLS failures are not (retrying will not
    make a plain-HTTP registry speak TLS). The last 429/5xx response is returned for the
    caller to turn into an error with its status.
    """
    for attempt in range(policy.attempts):
        last = attempt + 1 == policy.attempts
        try:
            response = await send()
        except aiohttp.ClientSSLError as exc:
            raise RegistryError(
                f"{what}: TLS handshake failed ({exc}); if this registry serves plain HTTP, "
                "mark it insecure in the registry configuration"
            ) from exc
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError) as exc:
            if last:
                raise RegistryError(
                    f"{what}: {type(exc).__name__}: {exc} (gave up after {policy.attempts} attempts)",
                    retryable=True,
                ) from exc
            await asyncio.sleep(policy.delay(attempt, None, rng))
            continue
        if response.status not in _RETRY_STATUSES or last:
            return response
        wait = policy.delay(attempt, _retry_after(response.headers.get("Retry-After")), rng)
        response.release()
        await asyncio.sleep(wait)
    raise AssertionError("unreachable: the last attempt returns or raises")


async def error_detail(response: aiohttp.ClientResponse) -> str:
    """The first ``errors[].code: message`` of a registry's error body, else the HTTP reason."""
    try:
        body = await response.content.read(64 * 1024)
        doc = msgspec.json.decode(body)
        errors = doc.get("errors") if isinstance(doc, dict) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return f"{errors[0].get('code', '')}: {errors[0].get('message', '')}".strip(": ")
    except (aiohttp.ClientError, msgspec.DecodeError, TimeoutError):
        pass
    return response.reason or ""


async def read_limited(response: aiohttp.ClientResponse, limit: int, what: str) -> bytes:
    """A response body of at most ``limit`` bytes (``RegistryError`` past it), then released."""
    parts: list[bytes] = []
    total = 0
    try:
        async for chunk in response.content.iter_chunked(CHUNK_SIZE):
            total += len(chunk)
            if total > limit:
                raise RegistryError(f"{what}: more than {limit} bytes")
            parts.append(chunk)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise RegistryError(f"{what}: read failed: {exc}", retryable=True) from exc
    finally:
        response.release()
    return b"".join(parts)


def same_origin(url: str, base: str) -> bool:
    """Whether ``url`` is on ``base``'s origin (scheme, host and port): only there may it be followed."""
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme.lower(), a.netloc.lower()) == (b.scheme.lower(), b.netloc.lower())


def next_link(header: str | None) -> str | None:
    """The ``rel="next"`` target of a ``Link`` header (catalog and tag pages), if any."""
    if not header:
        return None
    for part in header.split(","):
        target, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", "") or "rel=next" in params.replace(" ", ""):
            return target.strip().strip("<>")
    return None


def realm_refusal(
    realm: str, *, allowed_hosts: Sequence[str], insecure: bool, with_credentials: bool
) -> str | None:
    """Why a Bearer token realm may not be asked (None: it may).

    A registry names its own realm, so a hostile one could otherwise collect the credentials of
    every registry it is asked about: the realm must be HTTPS unless the registry is marked
    insecure, and with credentials its ``host[:port]`` must be one of ``allowed_hosts`` (the
    registry's own hosts, Docker Hub's auth host, the registry's ``auth_hosts``).
    """
    url = urlsplit(realm)
    if url.scheme not in ("https", "http") or not url.hostname or "@" in url.netloc:
        return "the realm is not an http(s) URL with a host"
    if url.scheme == "http" and not insecure:
        return "the realm is plain HTTP and the registry is not marked insecure"
    realm_host = url.netloc.lower()
    if with_credentials and realm_host not in {h.lower() for h in allowed_hosts}:
        return f"credentials go only to the registry's own host or its auth_hosts, not to {realm_host}"
    return None


@dataclass
class _Token:
    value: str
    expires_at: float


class RegistryAuth:
    """Turns challenges into ``Authorization`` headers; one per ``RegistryClient``.

    ``credentials(host)`` returns ``Credentials`` or None; ``send`` performs a GET (with
    retries) for the token endpoint, ``send_form`` a POST of a form (an identity token traded
    with ``grant_type=refresh_token``, the distribution OAuth2 flow). ``realm_refusal(host,
    realm, with_credentials)`` says why a Bearer realm may not be asked (None: it may); a
    registry names its realm, so a hostile one could otherwise collect the credentials of every
    registry it is asked about. ``mint(host, scope)`` makes a token locally (node daemons:
    ``services/oci/nodetoken.py``); None: ask the realm.
    """

    def __init__(
        self,
        credentials: Callable[[str], Credentials | None],
        send: Callable[[str, dict[str, str], dict[str, str]], Awaitable[aiohttp.ClientResponse]],
        clock: Callable[[], float] = time.monotonic,
        realm_refusal: Callable[[str, str, bool], str | None] | None = None,
        *,
        send_form: Callable[[str, dict[str, str]], Awaitable[aiohttp.ClientResponse]] | None = None,
        mint: Callable[[str, str], str | None] | None = None,
    ) -> None:
        self._credentials = credentials
        self._realm_refusal = realm_refusal or (lambda host, realm, with_credentials: None)
        self._send = send
        self._send_form = send_form
        self._mint = mint or (lambda host, scope: None)
        self._clock = clock
        self._challenges: dict[str, Challenge] = {}
        self._tokens: dict[tuple[str, str], _Token] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    def _basic(self, host: str) -> str | None:
        creds = self._credentials(host)
        if creds is None or creds.identity_token:
            return None
        raw = f"{creds.username}:{creds.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    async def header(self, host: str, scope: str) -> str | None:
        """The ``Authorization`` value for a request to ``host`` needing ``scope``, if known yet."""
        minted = self._mint(host, scope)
        if minted is not None:
            return "Bearer " + minted
        challenge = self._challenges.get(host)
        if challenge is None:
            return None
        if challenge.scheme == "basic":
            return self._basic(host)
        if challenge.scheme == "bearer":
            return "Bearer " + await self._token(host, challenge, scope)
        return None

    async def on_challenge(self, host: str, header: str, scope: str, what: str) -> str:
        """Record a 401's challenge and return the header to retry with (``RegistryError`` if none)."""
        challenge = parse_challenge(header)
        if challenge.scheme not in ("basic", "bearer"):
            raise RegistryError(f"{what}: unsupported auth scheme {challenge.scheme!r}", status=401)
        self._challenges[host] = challenge
        minted = self._mint(host, scope)
        if minted is not None:
            return "Bearer " + minted
        if challenge.scheme == "basic":
            value = self._basic(host)
            if value is None:
                raise RegistryError(
                    f"{what}: the registry wants credentials and none are configured", status=401
                )
            return value
        wanted = challenge.params.get("scope") or scope
        self._tokens.pop((host, wanted), None)
        return "Bearer " + await self._token(host, challenge, wanted)

    async def _token(self, host: str, challenge: Challenge, scope: str) -> str:
        key = (host, scope)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(key)
            if cached is not None and cached.expires_at > self._clock():
                return cached.value
            token = await self._fetch_token(host, challenge, scope)
            self._tokens[key] = token
            return token.value

    async def _fetch_token(self, host: str, challenge: Challenge, scope: str) -> _Token:
        realm = challenge.params.get("realm")
        if not realm:
            raise RegistryError(f"{host}: Bearer challenge without a realm", status=401)
        query = {k: v for k, v in (("service", challenge.params.get("service", "")), ("scope", scope)) if v}
        headers: dict[str, str] = {}
        creds = self._credentials(host)
        basic = self._basic(host)
        what = f"{host}: token from {realm}"
        refusal = self._realm_refusal(host, realm, creds is not None)
        if refusal is not None:
            raise RegistryError(f"{what}: refused: {refusal}", status=401)
        if creds is not None and creds.identity_token and self._send_form is not None:
            form = {**query, "grant_type": "refresh_token", "client_id": "assay"}
            response = await self._send_form(realm, {**form, "refresh_token": creds.identity_token})
        else:
            if basic is not None:
                headers["Authorization"] = basic
            response = await self._send(realm, query, headers)
        async with response:
            if response.status != 200:
                hint = " (wrong credentials?)" if creds and response.status in (401, 403) else ""
                raise RegistryError(f"{what}: HTTP {response.status}{hint}", status=response.status)
            try:
                doc = msgspec.json.decode(await response.read())
            except (msgspec.DecodeError, aiohttp.ClientError) as exc:
                raise RegistryError(f"{what}: unreadable token response: {exc}") from exc
        value = (doc.get("token") or doc.get("access_token")) if isinstance(doc, dict) else None
        if not isinstance(value, str) or not value:
            raise RegistryError(f"{what}: the response holds no token")
        try:
            lifetime = float(doc.get("expires_in") or _DEFAULT_TOKEN_LIFETIME_S)
        except (TypeError, ValueError):
            lifetime = _DEFAULT_TOKEN_LIFETIME_S
        lifetime = max(0.0, lifetime)
        return _Token(value, self._clock() + lifetime - min(_TOKEN_MARGIN_S, lifetime / 2))
