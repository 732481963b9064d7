"""The policy service's settings: extra rulesets and the rematch interval."""

from __future__ import annotations

from typing import Annotated

import msgspec


class RulesetsSettings(msgspec.Struct, frozen=True, kw_only=True):
    """``ASSAY_RULESETS_DIR``: a directory of extra ruleset YAML files."""

    dir: str = ""


class RematchSettings(msgspec.Struct, frozen=True, kw_only=True):
    """``ASSAY_REMATCH_INTERVAL_S``: how often policy looks for a new advisory build to rematch against."""

    interval_s: Annotated[float, msgspec.Meta(gt=0)] = 60.0
