"""The secrets analyzer's settings: ``ASSAY_SECRET_<FIELD>``."""

from __future__ import annotations

from typing import Annotated

import msgspec


class SecretSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Rules, limits and verification of the secrets analyzer (services/engine/content/secrets/)."""

    max_bytes: Annotated[int, msgspec.Meta(gt=0)] = 10 * 1024 * 1024  # larger files are not scanned
    rules: str = ""  # a rules TOML file replacing the shipped secrets ruleset
    allow_paths: list[str] = []  # globs never scanned for secrets, added to the ruleset's own
    verify: bool = False  # ask providers whether found credentials work (network; off by default)
