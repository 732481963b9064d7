"""The token buckets behind the API's rate limits, on an injected clock."""

from __future__ import annotations

import pytest

from services.api.auth.ratelimit import RateLimiter, retry_after


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_the_rate_refills_per_key() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.take("a")
    assert wait == pytest.approx(0.5)  # one request every half second
    assert limiter.take("b") == 0.0  # another key has its own bucket
    clock.now += 0.5
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0
    clock.now += 10
    assert limiter.blocked("a") == 0.0  # refilled, never above the burst
    assert [limiter.take("a") for _ in range(4)][-1] > 0


def test_blocked_only_looks() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1 / 60, burst=1, clock=clock)
    assert limiter.blocked("ip") == 0.0
    assert limiter.blocked("ip") == 0.0  # looking takes nothing
    limiter.take("ip")
    assert limiter.blocked("ip") == pytest.approx(60.0)
    assert retry_after(limiter.blocked("ip")) == "60"
    assert retry_after(0.01) == "1"


def test_a_limit_that_would_refuse_everything_is_an_error() -> None:
    with pytest.raises(ValueError, match="rate > 0"):
        RateLimiter(rate=0, burst=1, clock=Clock())
