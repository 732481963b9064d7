"""The licenses analyzer's settings: ``ASSAY_LICENSE_POLICY``."""

from __future__ import annotations

import msgspec


class LicenseSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The license policy the analyzer judges by (services/engine/licenses/policy.py)."""

    policy: str = ""  # a license policy TOML replacing the shipped one
