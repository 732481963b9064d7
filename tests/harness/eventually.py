"""Wait in a test for something another task does: poll a condition, fail naming what never came."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["until"]


async def until(condition: Callable[[], bool], what: str, *, timeout_s: float = 10.0) -> None:
    """Return once ``condition()`` holds; ``AssertionError`` naming ``what`` after ``timeout_s``."""
    for _ in range(int(timeout_s / 0.025)):
        if condition():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"never happened: {what}")
