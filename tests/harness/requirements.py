"""Skip-or-fail for tests that need something outside the repository.

On a user's own checkout a missing fixture or ``../shared`` skips with a stated reason;
in CI (``CI`` set) the same absence fails the test, so nothing skips silently there.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def in_ci() -> bool:
    """Whether the tests run in CI, where every requirement must be met."""
    return bool(os.environ.get("CI"))


def require(condition: bool, reason: str) -> None:
    """Skip (locally) or fail (in CI) unless ``condition`` holds."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


def shared_dir() -> Path:
    """The project's shared test material (``../shared`` beside the checkout)."""
    return Path(os.environ.get("ASSAY_SHARED", REPO.parent / "shared"))


def fixtures_dir() -> Path:
    """Where tests/fixtures/build-images.sh put the images."""
    return Path(os.environ.get("ASSAY_FIXTURES", REPO / ".fixtures"))
