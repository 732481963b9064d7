"""How a node daemon names the repositories it serves: ``<registry>/<path>`` behind its own address.

The daemon keeps the registry an image was pulled from in the repository name, so the same path
on two registries stays two repositories (``docker.io/team/app``, ``registry.internal/team/app``).
A registry with a port cannot go in as it is: ``127.0.0.1:5000`` is not a valid path component,
and ``<daemon>/127.0.0.1:5000/app@sha256:...`` would not parse as a reference. The port is
therefore joined with ``_`` (``127.0.0.1_5000/app``), which no host name contains (RFC 1123), so
``origin_of`` reads the registry back unambiguously. The node daemon writes these names; the
engine reads them back when the daemon lacks a layer and it fetches it from the image's registry.
"""

from __future__ import annotations

import re

__all__ = ["origin_of", "served_repository"]

_PORT = re.compile(r"^(?P<host>[a-z0-9.-]+)_(?P<port>[0-9]{1,5})$")
_HOST = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)*$")


def served_repository(registry: str, repository: str) -> str:
    """The repository a daemon serves for ``registry/repository`` (port joined with ``_``)."""
    host, sep, port = registry.lower().rpartition(":")
    first = f"{host}_{port}" if sep and port.isdigit() else registry.lower()
    return f"{first}/{repository}"


def origin_of(served: str) -> tuple[str, str] | None:
    """``(registry, repository)`` of a served repository name; None when it names no registry."""
    first, sep, rest = served.partition("/")
    if not sep or not rest:
        return None
    port = _PORT.match(first)
    if port is not None:
        return f"{port['host']}:{port['port']}", rest
    if _HOST.match(first) and ("." in first or first == "localhost"):
        return first, rest
    return None
