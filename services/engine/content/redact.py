"""The one way a secret is ever shown: a short prefix, an ellipsis and a hash.

Detections, logs and error messages carry only ``redact(secret)``; the raw value never
leaves the analyzer that matched it.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter

PREFIX_MAX = 4
HASH_HEX = 8


def redact(secret: bytes | str) -> str:
    """``ghp_…1f2e3d4c``: at most 4 leading characters (fewer for short values) and sha256's first 8 hex.

    The prefix is at most a quarter of the value, so short passwords show one or two characters.
    """
    raw = secret.encode("utf-8", "surrogateescape") if isinstance(secret, str) else secret
    text = raw.decode("utf-8", "replace")
    keep = min(PREFIX_MAX, len(text) // 4)
    prefix = "".join(c if c.isprintable() and not c.isspace() else "?" for c in text[:keep])
    return f"{prefix}…{hashlib.sha256(raw).hexdigest()[:HASH_HEX]}"


def shannon_entropy(value: bytes) -> float:
    """Bits per byte of ``value`` (0.0 when empty): random tokens score high, words and placeholders low."""
    if not value:
        return 0.0
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in Counter(value).values())


__all__ = ["redact", "shannon_entropy"]
