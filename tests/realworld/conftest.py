"""Fixtures of the real-world tests that the session-wide tests/conftest.py does not provide."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness.requirements import fixtures_dir, require


@pytest.fixture(scope="session")
def rpm_fixtures() -> Path:
    """The RPM images built by tests/fixtures/build-rpm-images.sh (``$ASSAY_FIXTURES/rpm``)."""
    path = fixtures_dir() / "rpm"
    require(
        (path / "manifest.json").is_file(),
        f"no RPM fixture images in {path}: run tests/fixtures/build-rpm-images.sh",
    )
    return path
