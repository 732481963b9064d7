"""Per-node, per-repository pull tokens for node daemons, signed by the engine with Ed25519.

Engines hold the private key (``RegistryConfig.node_key`` on the node daemons' host pattern);
every node daemon holds only the public key (``node_public_key``), so a node, or anything posing
as one, can verify tokens but never make one. A token is a compact JWS (``alg`` ``EdDSA``)::

    {"iss": "assay-engine", "aud": "10.4.0.17:5050", "iat": ..., "exp": ...,
     "access": [{"type": "repository", "name": "docker.io/library/nginx", "actions": ["pull"]}]}

``aud`` is the address the token is sent to: a host that matches the engines' ``*:5050`` pattern
but is not the node gets a token that no node accepts. ``access`` names one repository (the
distribution token format's claim): a daemon serves a blob only under a repository the token names
and only when an image of that repository holds the blob. Tokens live ``TOKEN_LIFETIME_S``.

Make a key pair with ``generate_keypair()`` (both halves base64).
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from services.common.errors import ConfigError

__all__ = [
    "TOKEN_LIFETIME_S",
    "NodeAccess",
    "NodeClaims",
    "NodeTokenMinter",
    "generate_keypair",
    "load_private_key",
    "load_public_key",
    "may_pull",
    "mint",
    "verify",
]

TOKEN_LIFETIME_S = 300
_SKEW_S = 30
_ISSUER = "assay-engine"
_HEADER = base64.urlsafe_b64encode(b'{"alg":"EdDSA","typ":"JWT"}').rstrip(b"=")
_MAX_TOKEN = 8192


class NodeAccess(msgspec.Struct, frozen=True):
    """One entry of ``access``: what may be done to which repository."""

    type: str
    name: str
    actions: list[str]


class NodeClaims(msgspec.Struct, frozen=True):
    """The claims of a node pull token."""

    iss: str
    aud: str
    iat: int
    exp: int
    access: list[NodeAccess] = []


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _unb64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def _raw_key(value: str, setting: str) -> bytes:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(f"{setting}: not base64") from exc
    if len(raw) != 32:
        raise ConfigError(f"{setting}: an Ed25519 key is 32 bytes, not {len(raw)}")
    return raw


def load_private_key(value: str, setting: str = "node_key") -> Ed25519PrivateKey:
    """The signing key from its base64 32-byte seed; ``ConfigError`` naming ``setting`` otherwise."""
    return Ed25519PrivateKey.from_private_bytes(_raw_key(value, setting))


def load_public_key(value: str, setting: str = "ASSAY_NODE_PUBLIC_KEY") -> Ed25519PublicKey:
    """The verification key from its base64 32 bytes; ``ConfigError`` naming ``setting`` otherwise."""
    return Ed25519PublicKey.from_public_bytes(_raw_key(value, setting))


def public_key_of(node_key: str) -> str:
    """The base64 public half of the engines' ``node_key`` (what every node daemon is given)."""
    public = load_private_key(node_key).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(public).decode()


def generate_keypair() -> tuple[str, str]:
    """A new ``(private, public)`` pair, each base64: ``node_key`` for engines, the other for nodes."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(private).decode(), base64.b64encode(public).decode()


def mint(key: Ed25519PrivateKey, audience: str, repository: str, now: float) -> str:
    """A token for pulling ``repository`` from the node at ``audience`` (``host:port``)."""
    claims = NodeClaims(
        iss=_ISSUER,
        aud=audience,
        iat=int(now),
        exp=int(now) + TOKEN_LIFETIME_S,
        access=[NodeAccess(type="repository", name=repository, actions=["pull"])],
    )
    signing_input = _HEADER + b"." + _b64(msgspec.json.encode(claims))
    return (signing_input + b"." + _b64(key.sign(signing_input))).decode()


def verify(key: Ed25519PublicKey, token: str, audience: str, now: float) -> NodeClaims | None:
    """The claims of a token signed by ``key`` for ``audience``, current at ``now``; None otherwise."""
    parts = token.split(".")
    if len(token) > _MAX_TOKEN or len(parts) != 3 or parts[0].encode() != _HEADER:
        return None
    try:
        key.verify(_unb64(parts[2]), f"{parts[0]}.{parts[1]}".encode())
        claims = msgspec.json.decode(_unb64(parts[1]), type=NodeClaims)
    except (InvalidSignature, binascii.Error, ValueError, msgspec.DecodeError, msgspec.ValidationError):
        return None
    if claims.iss != _ISSUER or claims.aud != audience:
        return None
    if claims.iat > now + _SKEW_S or claims.exp < now - _SKEW_S:
        return None
    if claims.exp - claims.iat > TOKEN_LIFETIME_S:
        return None  # only this module's lifetime is accepted, whatever a leaked key's holder wants
    return claims


def may_pull(claims: NodeClaims, repository: str) -> bool:
    """Whether the token's ``access`` lets its holder pull ``repository``."""
    return any(a.type == "repository" and a.name == repository and "pull" in a.actions for a in claims.access)


class NodeTokenMinter:
    """``RegistryAuth``'s ``mint`` hook: a cached token per (node address, repository).

    ``key_for(host)`` gives the base64 signing key configured for ``host`` (``""``: not a node
    daemon, the registry's challenge is followed instead). Catalog and other non-repository
    scopes get no token: a node daemon has no catalog.
    """

    def __init__(self, key_for: Callable[[str], str], clock: Callable[[], float] = time.time) -> None:
        self._key_for = key_for
        self._clock = clock
        self._keys: dict[str, Ed25519PrivateKey] = {}
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}

    def __call__(self, host: str, scope: str) -> str | None:
        encoded = self._key_for(host)
        kind, _, rest = scope.partition(":")
        repository, _, _actions = rest.rpartition(":")
        if not encoded or kind != "repository" or not repository:
            return None
        now = self._clock()
        cached = self._tokens.get((host, repository))
        if cached is not None and cached[1] > now:
            return cached[0]
        key = self._keys.get(encoded)
        if key is None:
            key = self._keys[encoded] = load_private_key(encoded, f"the node_key of {host}")
        token = mint(key, host, repository, now)
        self._tokens[(host, repository)] = (token, now + TOKEN_LIFETIME_S / 2)
        return token
