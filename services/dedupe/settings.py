"""Dedupe's settings: ``ASSAY_DEDUPE_<FIELD>``."""

from __future__ import annotations

from typing import Annotated

import msgspec


class DedupeSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Stuck scans: how often dedupe looks, when a scan counts as stuck, and how often it retries."""

    sweep_interval_s: Annotated[float, msgspec.Meta(gt=0)] = 60.0
    # a scan still requested/scanning after this long is requested again
    scan_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 1800.0
    max_scan_attempts: Annotated[int, msgspec.Meta(ge=1)] = 3  # requests before the image is marked failed
