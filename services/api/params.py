"""Query parameters of the read API: parsed into the store's filters, or refused with a clear message.

Pure functions of the query string, so every rule is testable without a server. Repeatable
filters take several values (``?environment=a&environment=b``, or ``a,b``); unknown parameters
are refused rather than ignored, so a misspelt filter cannot silently return everything.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Final, TypeVar, get_args
from urllib.parse import urlencode

import msgspec

from schemas.vocabulary import SEVERITIES, ImageStatus
from services.api.store import FindingFilter, ImageFilter

__all__ = [
    "DEFAULT_LIMIT",
    "FINDING_PARAMS",
    "IMAGE_PARAMS",
    "MAX_LIMIT",
    "ParamError",
    "decode_cursor",
    "encode_cursor",
    "finding_filter",
    "image_filter",
    "next_link",
]

DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 1000
STATUSES: Final[tuple[str, ...]] = get_args(ImageStatus)

# name -> description (also the OpenAPI parameter descriptions)
IMAGE_PARAMS: Final[dict[str, str]] = {
    "environment": "seen in this environment (repeatable)",
    "ou": "seen in an environment of this organisational unit (repeatable)",
    "status": f"scan status: {', '.join(STATUSES)} (repeatable)",
    "repository": "seen under this repository (repeatable)",
    "limit": f"page size, 1..{MAX_LIMIT} (default {DEFAULT_LIMIT})",
    "cursor": "continue after the page that returned this cursor (its `next` link carries it)",
}
FINDING_PARAMS: Final[dict[str, str]] = {
    "environment": "the finding's image was seen in this environment (repeatable)",
    "ou": "the image was seen in an environment of this organisational unit (repeatable)",
    "severity": f"this severity or worse: {', '.join(SEVERITIES)} (case-insensitive)",
    "ruleset": "produced by this ruleset (repeatable)",
    "category": "finding category, e.g. CVE, ImageScan, InsecureContent (repeatable)",
    "digest": "image manifest digest (repeatable)",
    "package": "package name, or purl with or without @version (repeatable)",
    "state": "lifecycle state: new, changed, unchanged or resolved (repeatable; default: all but resolved)",
    "q": "case-insensitive text in the advisory id, title, description, package name, finding id or image",
    "limit": f"page size, 1..{MAX_LIMIT} (default {DEFAULT_LIMIT})",
    "cursor": "continue after the page that returned this cursor (its `next` link carries it)",
}


T = TypeVar("T")


class ParamError(ValueError):
    """A query parameter is unknown or invalid; the message names it and says what is accepted."""


def _values(query: Mapping[str, Sequence[str]], name: str) -> list[str]:
    """Every non-empty value of a repeatable parameter, comma lists split."""
    return [v.strip() for raw in query.get(name, ()) for v in raw.split(",") if v.strip()]


def _single(query: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = [v for v in query.get(name, ()) if v.strip()]
    if len(values) > 1:
        raise ParamError(f"parameter {name!r} given {len(values)} times; give it once")
    return values[0].strip() if values else None


def _check_known(query: Mapping[str, Sequence[str]], known: Mapping[str, str]) -> None:
    unknown = sorted(set(query) - set(known))
    if unknown:
        raise ParamError(f"unknown parameter {unknown[0]!r} (known: {', '.join(sorted(known))})")


def _limit(query: Mapping[str, Sequence[str]]) -> int:
    raw = _single(query, "limit")
    if raw is None:
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise ParamError(f"parameter 'limit' must be an integer 1..{MAX_LIMIT}, not {raw!r}") from None
    if not 1 <= value <= MAX_LIMIT:
        raise ParamError(f"parameter 'limit' must be between 1 and {MAX_LIMIT}, not {value}")
    return value


def encode_cursor(key: object) -> str:
    """An opaque cursor for a page's last sort key (URL-safe base64 of JSON)."""
    return base64.urlsafe_b64encode(msgspec.json.encode(key)).decode("ascii").rstrip("=")


def decode_cursor(raw: str, type_: type[T]) -> T:
    """The sort key inside a cursor made by ``encode_cursor``; ``ParamError`` if it is not one."""
    try:
        data = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        return msgspec.json.decode(data, type=type_)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise ParamError("parameter 'cursor' is not a cursor this API returned") from None


def image_filter(query: Mapping[str, Sequence[str]]) -> ImageFilter:
    """The image filter a query string asks for."""
    _check_known(query, IMAGE_PARAMS)
    statuses = _values(query, "status")
    if bad := [s for s in statuses if s not in STATUSES]:
        raise ParamError(f"parameter 'status': unknown status {bad[0]!r} (one of {', '.join(STATUSES)})")
    cursor = _single(query, "cursor")
    return ImageFilter(
        environments=_values(query, "environment"),
        ous=_values(query, "ou"),
        statuses=statuses,
        repositories=_values(query, "repository"),
        after=decode_cursor(cursor, str) if cursor is not None else None,
        limit=_limit(query),
    )


def finding_filter(query: Mapping[str, Sequence[str]]) -> FindingFilter:
    """The finding filter a query string asks for."""
    _check_known(query, FINDING_PARAMS)
    severity = _single(query, "severity")
    if severity is not None and severity.upper() not in SEVERITIES:
        raise ParamError(
            f"parameter 'severity': unknown severity {severity!r} (one of {', '.join(SEVERITIES)})"
        )
    cursor = _single(query, "cursor")
    after = decode_cursor(cursor, tuple[int, str]) if cursor is not None else None
    if after is not None and not 0 <= after[0] < len(SEVERITIES):
        raise ParamError("parameter 'cursor' is not a cursor this API returned")
    return FindingFilter(
        environments=_values(query, "environment"),
        ous=_values(query, "ou"),
        min_severity=severity.upper() if severity is not None else None,
        rulesets=_values(query, "ruleset"),
        categories=_values(query, "category"),
        digests=_values(query, "digest"),
        packages=_values(query, "package"),
        states=_values(query, "state"),
        text=_single(query, "q"),
        after=after,
        limit=_limit(query),
    )


def next_link(path: str, query: Mapping[str, Sequence[str]], cursor: str) -> str:
    """``path`` with the same query and ``cursor`` replaced: the link to the following page."""
    pairs = [(k, v) for k, values in query.items() if k != "cursor" for v in values]
    return f"{path}?{urlencode([*pairs, ('cursor', cursor)])}"
