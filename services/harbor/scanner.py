"""From Harbor's scan request to a registry target and the credentials that may pull it."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

import msgspec

from services.common.clock import utcnow
from services.common.config import RegistryConfig
from services.engine.usecase import scan_local
from services.harbor.models import DOCKER_MANIFEST, OCI_MANIFEST, ScanRequest
from services.policy.assess import assess
from services.policy.report import Report
from services.policy.suppress_accept import Acceptance

if TYPE_CHECKING:
    from services.settings import Settings

__all__ = ["RequestError", "ScanImage", "pull_target", "registry_scanner"]

ScanImage = Callable[[ScanRequest], Awaitable[Report]]
SUPPORTED_MIME_TYPES: Final = (OCI_MANIFEST, DOCKER_MANIFEST)
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
# the distribution spec's repository name grammar: lowercase path components
_REPOSITORY = re.compile(
    r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)


class RequestError(ValueError):
    """A scan request Harbor sent that cannot be served; the message names the field (HTTP 422)."""


def _credentials(authorization: str) -> tuple[str, str]:
    if not authorization:
        return "", ""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise RequestError("registry.authorization: only Basic (robot account) credentials are supported")
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise RequestError("registry.authorization: not valid Basic credentials") from exc
    if not sep:
        raise RequestError("registry.authorization: Basic credentials without a password")
    return user, password


def pull_target(request: ScanRequest) -> tuple[str, RegistryConfig]:
    """The artifact's reference (``host/repository@digest``) and the one registry it may be pulled from.

    The robot credentials go to Harbor's registry host and nowhere else; plain HTTP only when
    Harbor's own URL is ``http://``.
    """
    url = urlsplit(request.registry.url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise RequestError(f"registry.url: {request.registry.url!r} is not an http(s) URL")
    if url.path not in ("", "/"):
        raise RequestError("registry.url: a registry base URL has no path")
    artifact = request.artifact
    if not _REPOSITORY.match(artifact.repository):
        raise RequestError(f"artifact.repository: {artifact.repository!r} is not a repository name")
    if not _DIGEST.match(artifact.digest):
        raise RequestError(f"artifact.digest: {artifact.digest!r} is not a sha256 digest")
    if artifact.mime_type and artifact.mime_type not in SUPPORTED_MIME_TYPES:
        raise RequestError(f"artifact.mime_type: {artifact.mime_type} is not an image manifest Assay scans")
    user, password = _credentials(request.registry.authorization)
    host = url.netloc.rpartition("@")[2]
    registry = RegistryConfig(
        host=host, insecure=url.scheme == "http", username=user, password=password, crawl=False
    )
    return f"{host}/{artifact.repository}@{artifact.digest}", registry


def registry_scanner(settings: Settings, acceptance: Acceptance | None = None) -> ScanImage:
    """Scan what Harbor asks for as ``assay scan`` does (the engine's scan use case, then policy's
    assessment under the default ruleset), pulling only from Harbor's registry."""

    async def scan(request: ScanRequest) -> Report:
        target, registry = pull_target(request)
        scoped = msgspec.structs.replace(settings, registries=[registry])
        detections = await scan_local(scoped, target)
        return assess(detections, acceptance or Acceptance(), dt.date.fromisoformat(utcnow()[:10]))

    return scan
