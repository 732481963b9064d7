"""Which content analyzers run, and the per-layer cache of their results."""

from __future__ import annotations

from typing import Literal

import msgspec


class ContentSettings(msgspec.Struct, frozen=True, kw_only=True):
    """``ASSAY_CONTENT_ANALYZERS``: the analyzers to run (content/registry.py); [] runs none."""

    analyzers: list[str] = msgspec.field(
        default_factory=lambda: ["secrets", "insecure", "malware", "netioc", "licenses"]
    )


class LayerCacheSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Content-analyzer results cached per layer diff_id: ``ASSAY_LAYER_CACHE_<FIELD>``."""

    enabled: bool = True
    dir: str = ""  # "" = <data.dir>/layer-cache
    backend: Literal["dir", "s3"] = "dir"  # "dir" (layer_cache.dir) or "s3" (aws.s3_bucket, cache_s3.py)
