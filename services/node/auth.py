"""Who may read the node daemon's endpoint.

With a public key (``ASSAY_NODE_PUBLIC_KEY``, the normal mode) only engine-signed pull tokens are
taken (``services/oci/nodetoken.py``): ``Authorization: Bearer <token>`` whose ``aud`` is this
node's advertised address and whose ``access`` names the repository in the URL. The node holds no
secret that would open any other node, and a token sent to the wrong host opens nothing.

Without one, the legacy shared token (``ASSAY_NODE_TOKEN``, as Bearer or as a Basic password) is
taken for every repository; the daemon warns at start-up, since one node's token opens them all.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.oci.nodetoken import may_pull, verify

__all__ = ["NodeAuth", "token_matches"]

_REALM = "assay-node"


def token_matches(header: str, token: str) -> bool:
    """Does an ``Authorization`` header carry ``token`` (Bearer, or Basic with it as password)?"""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        offered = value
    elif scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        offered = decoded.partition(":")[2]
    else:
        return False
    return bool(token) and hmac.compare_digest(offered.encode(), token.encode())


class NodeAuth:
    """Checks a request's ``Authorization`` for a repository (None: the ``/v2/`` version check)."""

    def __init__(
        self,
        *,
        audience: str,
        public_key: Ed25519PublicKey | None = None,
        token: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if public_key is None and not token:
            raise ValueError("NodeAuth needs a public key or a token")
        self._audience = audience
        self._key = public_key
        self._token = token
        self._clock = clock

    @property
    def signed(self) -> bool:
        """True when only engine-signed tokens are taken."""
        return self._key is not None

    def allows(self, header: str, repository: str | None) -> bool:
        """Whether ``header`` may read ``repository`` on this node."""
        if self._key is None:
            return token_matches(header, self._token)
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            return False
        claims = verify(self._key, value.strip(), self._audience, self._clock())
        if claims is None:
            return False
        return repository is None or may_pull(claims, repository)

    def challenge(self, repository: str | None) -> str:
        """The ``WWW-Authenticate`` value of a 401 for ``repository``."""
        if self._key is None:
            return f'Basic realm="{_REALM}"'
        scope = f',scope="repository:{repository}:pull"' if repository else ""
        return f'Bearer realm="{_REALM}",service="{self._audience}"{scope}'
