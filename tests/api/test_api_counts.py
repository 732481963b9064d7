"""An image's finding counts: current findings only (not resolved, not suppressed), each problem
once, and per ruleset as each ruleset rated it (issue 14, defect 7)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from schemas import Finding
from services.api.store import ImageFilter, Reads
from services.common.store import Store
from tests.harness.seed import evaluate, sight

DIGEST = "sha256:" + "e" * 64


@pytest.fixture
async def store(pg_dsn: str) -> AsyncIterator[Store]:
    s = await Store.connect(pg_dsn)
    yield s
    await s.close()


def _cve(n: int, severity: str, ruleset: str, *, suppression: str = "") -> Finding:
    return Finding(
        finding_id=f"{ruleset}-{n}",
        category="CVE",
        id=f"CVE-2024-{n}",
        severity=severity,
        title=f"CVE-2024-{n}",
        purl=f"pkg:deb/debian/lib{n}@1.0",
        ruleset=ruleset,
        suppression=suppression,
    )


async def test_counts_exclude_resolved_and_suppressed_and_are_given_per_ruleset(store: Store) -> None:
    await sight(store, digest=DIGEST, image_ref=f"r/app@{DIGEST}", environment="registry:r", repository="app")
    first = [
        _cve(1, "CRITICAL", "default"),
        _cve(2, "HIGH", "default"),
        _cve(3, "LOW", "default", suppression="accepted risk"),
        _cve(1, "HIGH", "strict"),  # the same problem, rated lower by another ruleset
        _cve(4, "MEDIUM", "strict"),
    ]
    await evaluate(store, DIGEST, first, evaluation_id="scan-1")
    # a later evaluation resolves CVE-2024-2 under the default ruleset
    await evaluate(store, DIGEST, [f for f in first if f.finding_id != "default-2"], evaluation_id="scan-2")

    [image] = await Reads(store.pool).images(ImageFilter(digests=[DIGEST]))
    assert image.finding_counts == {"CRITICAL": 1, "MEDIUM": 1}
    assert image.ruleset_counts == {"default": {"CRITICAL": 1}, "strict": {"HIGH": 1, "MEDIUM": 1}}
