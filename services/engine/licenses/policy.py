"""License policy: each package's SPDX expression classed forbidden, restricted, notice or unknown.

An ``OR`` lets the user pick the least restrictive branch, an ``AND`` imposes the most
restrictive one; ``WITH`` an exception keeps the base license's class.

``os_packages`` (``[scope]`` in the TOML) says what happens to the licenses of OS-owned
packages (deb, apk, rpm, and language packages an OS package installed): "informational"
(the default) keeps them in the inventory and SBOMs but raises no finding, since the
distribution licenses its base image and a Debian image's GPL tools are not the image
author's choice; "judged" classes them like application packages.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec
from license_expression import ExpressionError  # type: ignore[import-untyped]

from schemas.vocabulary import Severity
from services.common.errors import ConfigError
from services.engine.licenses.normalize import _licensing

ORDER = ("notice", "unknown", "restricted", "forbidden")  # least to most restrictive
OS_SCOPES = ("informational", "judged")


class LicensePolicy(msgspec.Struct, frozen=True, kw_only=True):
    """SPDX id patterns per class and the severity of each reported class."""

    forbidden: list[str] = []
    restricted: list[str] = []
    notice: list[str] = []
    severity: dict[str, Severity] = {}
    os_packages: str = "informational"

    def class_of_id(self, spdx_id: str) -> str:
        for name in ("forbidden", "restricted", "notice"):
            if any(fnmatch.fnmatchcase(spdx_id, pattern) for pattern in getattr(self, name)):
                return name
        return "unknown"


def parse_policy(text: str, source: str) -> LicensePolicy:
    """A policy from TOML text (``[classes]`` patterns, ``[severity]`` per reported class,
    ``[scope] os_packages``)."""
    try:
        data = tomllib.loads(text)
        fields = {**data.get("classes", {}), "severity": data.get("severity", {}), **data.get("scope", {})}
        policy = msgspec.convert(fields, LicensePolicy)
    except (tomllib.TOMLDecodeError, msgspec.ValidationError) as exc:
        raise ConfigError(f"{source}: not a license policy: {exc}") from exc
    if policy.os_packages not in OS_SCOPES:
        raise ConfigError(
            f"{source}: [scope] os_packages must be one of {', '.join(OS_SCOPES)}, not {policy.os_packages!r}"
        )
    return policy


@cache
def default_policy() -> LicensePolicy:
    """The shipped policy (``policy.toml``)."""
    return parse_policy(
        resources.files("services.engine.licenses").joinpath("policy.toml").read_text(), "policy.toml"
    )


def load_policy(path: Path) -> LicensePolicy:
    """A user's policy file; ``ConfigError`` naming the file when it is missing or malformed."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the license policy: {exc.strerror or exc}") from exc
    return parse_policy(text, str(path))


def _most(classes: Sequence[str], restrictive: bool) -> str:
    ranked = sorted(classes, key=ORDER.index)
    return ranked[-1] if restrictive else ranked[0]


def _classify(node: Any, policy: LicensePolicy) -> str:
    args = getattr(node, "args", None)
    if args:
        children = [_classify(a, policy) for a in args]
        return _most(children, restrictive=type(node).__name__ == "AND")
    symbol = getattr(node, "license_symbol", node)  # a WITH exception: class of the base license
    return policy.class_of_id(str(getattr(symbol, "key", symbol)))


def classify(expression: str, policy: LicensePolicy) -> str:
    """The class of an SPDX expression; an unparsable one is "unknown"."""
    if not expression:
        return "unknown"
    try:
        parsed = _licensing().parse(expression, validate=False)
    except ExpressionError:
        return "unknown"
    return _classify(parsed, policy)
