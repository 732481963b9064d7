"""Image references, parsed exactly as Docker parses them.

The grammar and the normalisation follow ``github.com/distribution/reference``
(``ParseNormalizedNamed`` then ``TagNameOnly``)::

    reference := name [ ":" tag ] [ "@" digest ]
    name      := [ domain "/" ] path-component [ "/" path-component ]*
    domain    := host [ ":" port ]      host: DNS name, IPv4 or "[" IPv6 "]"

Normalisation: a first component is a registry only if it contains ``.`` or ``:``, is
``localhost``, or has an upper-case letter; otherwise the registry is ``docker.io``.
``index.docker.io`` becomes ``docker.io``; on ``docker.io`` a single-component name gets
``library/``. A reference with neither tag nor digest gets the tag ``latest``. The
repository path must be lower case; the tag may not be.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.common.errors import ReferenceError_

__all__ = ["DEFAULT_REGISTRY", "DOCKER_HUB_API_HOST", "Reference", "api_host_for", "parse_reference"]

DEFAULT_REGISTRY = "docker.io"
DOCKER_HUB_API_HOST = "registry-1.docker.io"
_LEGACY_DEFAULT_REGISTRY = "index.docker.io"
_OFFICIAL_PREFIX = "library/"
_NAME_TOTAL_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN = rf"(?:{_DOMAIN_NAME}|{_IPV6})(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_REFERENCE_RE = re.compile(rf"({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?")
_IDENTIFIER_RE = re.compile(r"[a-f0-9]{64}")
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


@dataclass(frozen=True)
class Reference:
    """A normalised image reference: ``registry/repository[:tag][@digest]``.

    ``registry`` is the canonical name (``docker.io``, ``127.0.0.1:5000``); ``api_host``
    is where its registry API answers (``registry-1.docker.io`` for Docker Hub).
    ``tag`` is ``latest`` when the user gave neither a tag nor a digest, and empty when
    only a digest was given.
    """

    registry: str
    repository: str
    tag: str = ""
    digest: str = ""

    @property
    def api_host(self) -> str:
        """The host (and port) that serves the registry API for this reference."""
        return api_host_for(self.registry)

    @property
    def name(self) -> str:
        """``registry/repository`` without tag or digest."""
        return f"{self.registry}/{self.repository}"

    @property
    def manifest_ref(self) -> str:
        """What to put after ``/manifests/``: the digest if there is one, else the tag."""
        return self.digest or self.tag

    def __str__(self) -> str:
        out = self.name
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


def api_host_for(registry: str) -> str:
    """The API host for a registry name: Docker Hub's names map to ``registry-1.docker.io``."""
    if registry in (DEFAULT_REGISTRY, _LEGACY_DEFAULT_REGISTRY):
        return DOCKER_HUB_API_HOST
    return registry


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if not sep or (not any(c in first for c in ".:") and first != "localhost" and first.lower() == first):
        domain, remainder = DEFAULT_REGISTRY, name
    else:
        domain, remainder = first, rest
    if domain == _LEGACY_DEFAULT_REGISTRY:
        domain = DEFAULT_REGISTRY
    if domain == DEFAULT_REGISTRY and "/" not in remainder:
        remainder = _OFFICIAL_PREFIX + remainder
    return domain, remainder


def _check_digest(text: str, digest: str) -> None:
    algorithm, _, hexpart = digest.partition(":")
    expected = _DIGEST_HEX_LENGTHS.get(algorithm)
    if expected is None:
        raise ReferenceError_(f"invalid reference {text!r}: unsupported digest algorithm {algorithm!r}")
    if len(hexpart) != expected or hexpart != hexpart.lower():
        raise ReferenceError_(f"invalid reference {text!r}: invalid checksum digest format")


def parse_reference(text: str) -> Reference:
    """Parse and normalise an image reference the way ``docker pull`` does.

    Raises ``ReferenceError_`` with Docker's reason: empty, invalid format, upper case in the
    repository, a bare 64-hex identifier, a name over 255 characters, or a bad digest.
    """
    if not text:
        raise ReferenceError_("invalid reference: repository name must have at least one component")
    if _IDENTIFIER_RE.fullmatch(text):
        raise ReferenceError_(f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings")
    domain, remainder = _split_domain(text)
    remote = remainder.split(":", 1)[0]
    if remote.lower() != remote:
        raise ReferenceError_(
            f"invalid reference {text!r}: repository name ({remote.split('@', 1)[0]}) must be lowercase"
        )
    full = f"{domain}/{remainder}"
    match = _REFERENCE_RE.fullmatch(full)
    if match is None:
        raise ReferenceError_(f"invalid reference format: {text!r}")
    name, tag, digest = match.group(1), match.group(2) or "", match.group(3) or ""
    if len(name) > _NAME_TOTAL_MAX:
        raise ReferenceError_(
            f"invalid reference {text!r}: repository name must not be more than {_NAME_TOTAL_MAX} characters"
        )
    if digest:
        _check_digest(text, digest)
    repository = name[len(domain) + 1 :]
    if not tag and not digest:
        tag = "latest"
    return Reference(registry=domain, repository=repository, tag=tag, digest=digest)
