"""``HOST:PORT`` settings, validated when settings load (msgspec ``Meta(pattern=…)``), split at use.

``HostPort`` is a ``str`` that must be ``host:port``: a DNS name or IPv4 address (``0.0.0.0`` for
every address), or ``[IPv6]``, then a port 0 to 65535. ``OptionalHostPort`` also takes ``""``
(a listener that is off). A bad value fails ``load_settings`` with an error naming the variable,
before any service starts; ``split_host_port`` turns a checked value into ``(host, port)``.
"""

from __future__ import annotations

import re
from typing import Annotated

import msgspec

__all__ = ["HOST_PORT_PATTERN", "HostPort", "OptionalHostPort", "split_host_port"]

_PORT = r"(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
_HOST = r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)"
HOST_PORT_PATTERN = rf"^{_HOST}:{_PORT}$"

HostPort = Annotated[
    str, msgspec.Meta(pattern=HOST_PORT_PATTERN, description="HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080")
]
OptionalHostPort = Annotated[
    str, msgspec.Meta(pattern=rf"^$|{HOST_PORT_PATTERN}", description='HOST:PORT, or "" for off')
]

_RE = re.compile(HOST_PORT_PATTERN)


def split_host_port(value: str) -> tuple[str, int]:
    """``(host, port)`` of a ``HOST:PORT`` (brackets of an IPv6 host removed); ``ValueError`` if not one."""
    if not _RE.match(value):
        raise ValueError(f"expected HOST:PORT (e.g. 127.0.0.1:8080), not {value!r}")
    host, _, port = value.rpartition(":")
    return host.removeprefix("[").removesuffix("]"), int(port)
