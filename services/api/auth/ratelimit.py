"""Token buckets per key (an API token, a client address): how many requests may pass, and when
the next one may. Pure and clock-injected, so the rules are tested without waiting.

One process keeps its own buckets: with N API replicas a client gets up to N times the rate,
which still bounds a runaway script or a password-guessing loop (the purpose here).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

__all__ = ["RateLimiter", "retry_after"]

_MAX_KEYS: Final = 10_000  # the least recently seen keys are forgotten beyond this (full buckets)


class RateLimiter:
    """``rate`` requests per second on average, bursts of up to ``burst``, per key."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"a rate limit needs rate > 0 and burst >= 1, not {rate}, {burst}")
        self._rate, self._burst, self._clock = rate, float(burst), clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def _level(self, key: str) -> float:
        now = self._clock()
        tokens, at = self._buckets.get(key, (self._burst, now))
        return min(self._burst, tokens + (now - at) * self._rate)

    def take(self, key: str) -> float:
        """Take one request for ``key``: 0 when it may pass, else the seconds until one may."""
        tokens = self._level(key)
        if tokens >= 1:
            self._store(key, tokens - 1)
            return 0.0
        self._store(key, tokens)
        return (1 - tokens) / self._rate

    def blocked(self, key: str) -> float:
        """Seconds until ``key`` may try again (0: now), without taking anything."""
        tokens = self._level(key)
        return 0.0 if tokens >= 1 else (1 - tokens) / self._rate

    def _store(self, key: str, tokens: float) -> None:
        self._buckets[key] = (tokens, self._clock())
        self._buckets.move_to_end(key)
        while len(self._buckets) > _MAX_KEYS:
            self._buckets.popitem(last=False)


def retry_after(seconds: float) -> str:
    """A ``Retry-After`` header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
