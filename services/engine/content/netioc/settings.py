"""The URL/IP analyzer's threat feeds: ``ASSAY_FEEDS_PATH``."""

from __future__ import annotations

import msgspec


class FeedsSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Where ``assay feeds update`` stores the feeds the netioc analyzer reads."""

    path: str = ""  # "" = <data.dir>/feeds.json
