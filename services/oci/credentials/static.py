"""Credentials written in the configuration: ``RegistryConfig`` username and password.

This is also how Harbor robot accounts are configured: a robot is a user whose name carries
Harbor's prefix, ``robot$<project>+<name>`` (Harbor 2.x; ``robot$<name>`` for system robots),
with its secret as the password, e.g.
``{"host": "harbor.example", "username": "robot$team+assay", "password": "<secret>"}``.
Harbor answers with a Bearer challenge whose realm is its own ``/service/token``, so the robot's
secret never leaves Harbor's host. Keep the ``$`` literal (quote it in a shell).

Google's registries take a service-account key this way too: user ``_json_key`` and the key
file's JSON as the password.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence

from services.common.config import RegistryConfig
from services.oci.credentials.base import Credentials
from services.oci.reference import api_host_for

__all__ = ["StaticCredentials", "is_host_pattern", "match_registry"]


def is_host_pattern(host: str) -> bool:
    """True for a configured host that is a glob (matches many hosts; never crawled)."""
    return any(c in host for c in "*?[")


def match_registry(registries: Sequence[RegistryConfig], host: str) -> RegistryConfig | None:
    """The configuration for ``host`` (registry name or API host), if any.

    An exact host wins; then a host given as a glob (``*:5050``, ``10.0.*``: the node daemons of a
    cluster, whose addresses are pod IPs) matches by ``fnmatch``.
    """
    for reg in registries:
        if reg.host == host or api_host_for(reg.host) == api_host_for(host):
            return reg
    for reg in registries:
        if is_host_pattern(reg.host) and fnmatch.fnmatchcase(host, reg.host):
            return reg
    return None


class StaticCredentials:
    """The configured username and password of the registry ``host`` matches (robot accounts too)."""

    name = "config"

    def __init__(self, registries: Sequence[RegistryConfig]) -> None:
        self._registries = list(registries)

    async def credentials(self, host: str) -> Credentials | None:
        """The matching ``RegistryConfig``'s username and password; None without a username."""
        reg = match_registry(self._registries, host)
        if reg is None or not reg.username:
            return None
        return Credentials(reg.username, reg.password)
