"""What a caller may see: all environments, or only some environments and organisational units.

A scope is written as a list of entries, the way ``assay tokens create --environments`` and the
OIDC scope claim take it: an environment as the read API names it (``cluster:prod-eu``,
``registry:HOST``, ``ecs:ACCOUNT``, ``node:NAME``...) or an organisational unit as ``ou:NAME``.
No entry means every environment. A limited caller sees an image only when it was seen in one
of its environments, or in an environment of one of its OUs (``image_environments.ou`` or the
configured cluster's ``ou``); its findings, alerts and workloads follow the image. The read model
(``Reads.scoped``) applies it to every query, so the API and the console cannot differ.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

import msgspec

__all__ = ["UNSCOPED", "OutOfScope", "Scope", "ScopeError", "parse_scope"]

_ENTRY: Final = re.compile(r"^([a-z][a-z0-9-]*):(\S+)$")


class ScopeError(ValueError):
    """A scope entry is malformed; the message names it and says how to write one."""


class OutOfScope(Exception):
    """A change names an image or environment outside the caller's scope (answered 403)."""


class Scope(msgspec.Struct, frozen=True, kw_only=True):
    """The environments and OUs a caller is limited to; both empty: not limited."""

    environments: tuple[str, ...] = ()
    ous: tuple[str, ...] = ()

    @property
    def limited(self) -> bool:
        """Whether the caller sees less than everything."""
        return bool(self.environments or self.ous)

    def entries(self) -> list[str]:
        """The scope as entries (``cluster:a``, ``ou:b``), as stored and audited."""
        return [*self.environments, *(f"ou:{ou}" for ou in self.ous)]

    def describe(self) -> str:
        """For messages: the entries, comma-separated ("all environments" when not limited)."""
        return ", ".join(self.entries()) if self.limited else "all environments"


UNSCOPED: Final = Scope()


def parse_scope(entries: Iterable[str]) -> Scope:
    """A scope from entries (``KIND:NAME`` environments, ``ou:NAME``); ``ScopeError`` on a bad one."""
    environments: list[str] = []
    ous: list[str] = []
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        match = _ENTRY.match(entry)
        if match is None:
            raise ScopeError(
                f"scope entry {entry!r}: write an environment as KIND:NAME (cluster:prod-eu, "
                "registry:HOST, ecs:ACCOUNT) or an organisational unit as ou:NAME"
            )
        target = ous if match[1] == "ou" else environments
        value = match[2] if match[1] == "ou" else entry
        if value not in target:
            target.append(value)
    return Scope(environments=tuple(sorted(environments)), ous=tuple(sorted(ous)))
