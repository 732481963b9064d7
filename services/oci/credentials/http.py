"""Token I/O for the providers: one bounded JSON request (GCE metadata, ACR), token files; errors
never carry secrets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
import msgspec

from services.common.errors import RegistryError

__all__ = ["fetch_json", "read_token_file"]

_MAX_BODY = 1 << 20
_MAX_TOKEN_FILE = 64 * 1024


async def fetch_json(
    method: str,
    url: str,
    *,
    what: str,
    headers: Mapping[str, str] | None = None,
    form: Mapping[str, str] | None = None,
    timeout_s: float = 10.0,
) -> tuple[dict[str, Any], Mapping[str, str]]:
    """The JSON object ``url`` answers with, and the response headers.

    Anything but a 200 with a JSON object raises ``RegistryError`` naming ``what`` and the status,
    never the body (a token endpoint's error may quote what it was sent).
    """
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(method, url, headers=dict(headers or {}), data=form) as response,
        ):
            if response.status != 200:
                raise RegistryError(
                    f"{what}: HTTP {response.status}",
                    status=response.status,
                    retryable=response.status in (429, 500, 502, 503, 504),
                )
            body = await response.content.read(_MAX_BODY + 1)
            answer_headers = dict(response.headers)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise RegistryError(f"{what}: {type(exc).__name__}: {exc}", retryable=True) from exc
    if len(body) > _MAX_BODY:
        raise RegistryError(f"{what}: answer larger than {_MAX_BODY} bytes")
    try:
        doc = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise RegistryError(f"{what}: the answer is not JSON") from exc
    if not isinstance(doc, dict):
        raise RegistryError(f"{what}: the answer is not a JSON object")
    return doc, answer_headers


def read_token_file(path: str, what: str) -> str:
    """The token a file holds (stripped), read at each ask: another process keeps it fresh."""
    try:
        with open(path, "rb") as f:
            token = f.read(_MAX_TOKEN_FILE).decode("ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{what} {path}: cannot read: {exc.__class__.__name__}") from exc
    if not token:
        raise RegistryError(f"{what} {path}: empty")
    return token
