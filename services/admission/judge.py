"""Judging a digest from the store: the verdicts the policy service already reached.

The policy service evaluates every scanned image under the ruleset of each environment it is seen
in, and raises an ImageScan finding when the ruleset's thresholds are passed. The gate reads that:
the environment's ruleset (its own assignment, else its OU's, else ``default``), then whether an
open, unsuppressed ImageScan finding of that ruleset exists for the digest.
"""

from __future__ import annotations

from services.admission.gate import ImageVerdict, Judge
from services.admission.store import AdmissionReads, GateImage
from services.common.store.assignments import Assignment

__all__ = ["ruleset_for", "store_judge"]


def ruleset_for(environment: str, image: GateImage, assignments: list[Assignment]) -> str:
    """The ruleset the policy service applies to ``image`` in ``environment``."""
    ous = set(image.ous.get(environment, ()))
    by_env = [a.ruleset for a in assignments if a.scope == "environment" and a.name == environment]
    by_ou = sorted(a.ruleset for a in assignments if a.scope == "ou" and a.name in ous)
    return (by_env or by_ou or ["default"])[0]


def store_judge(reads: AdmissionReads, assignments: list[Assignment]) -> Judge:
    """A judge over the read model; ``assignments`` as the store lists them at start-up."""

    async def judge(digest: str, environment: str) -> ImageVerdict:
        image = await reads.image(digest)
        if image is None:
            return ImageVerdict(state="unknown", detail="not known to Assay yet: a scan was asked for")
        if image.status != "scanned":
            why = f" ({image.error})" if image.error else ""
            return ImageVerdict(state="unknown", detail=f"scan status {image.status}{why}")
        ruleset = ruleset_for(environment, image, assignments)
        open_ = await reads.threshold_findings(digest, ruleset)
        if open_:
            return ImageVerdict(state="over", detail=f"over the {ruleset} ruleset's thresholds: {open_[0]}")
        if ruleset not in image.ruleset_counts:
            return ImageVerdict(state="unknown", detail=f"not evaluated under the {ruleset} ruleset yet")
        counts = ", ".join(f"{k} {v}" for k, v in image.ruleset_counts[ruleset].items() if v)
        return ImageVerdict(
            state="clear", detail=f"within the {ruleset} thresholds ({counts or 'no findings'})"
        )

    return judge
