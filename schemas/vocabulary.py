"""The closed vocabularies of the wire: severities (with their order), lifecycle states, image
statuses, scan reasons, fix states and finding categories.

Each is a ``Literal`` type, so msgspec rejects any other string when it decodes an event, and the
exported JSON Schema lists the allowed values; the strings themselves are the wire values and never
change. The tuples beside them (``SEVERITIES``, ...) are the same values for code that iterates
or checks them, derived from the types so the two cannot drift. The severity order lives here
only: ``severity_rank`` for Python and ``severity_rank_sql`` for the SQL that sorts by it.
"""

from __future__ import annotations

from typing import Final, Literal, TypeGuard, get_args

__all__ = [
    "BUNDLE_KINDS",
    "CATEGORIES",
    "DETECTION_CATEGORIES",
    "FIX_STATES",
    "IMAGE_STATUSES",
    "LIFECYCLE_STATES",
    "SCAN_REASONS",
    "SEVERITIES",
    "BundleKind",
    "Category",
    "DetectionCategory",
    "FixState",
    "ImageStatus",
    "LifecycleState",
    "RankedSeverity",
    "ScanReason",
    "Severity",
    "as_severity",
    "is_severity",
    "severity_rank",
    "severity_rank_sql",
]

# The ranked severities, most severe first: a severity's rank is its index in ``SEVERITIES``.
RankedSeverity = Literal["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]
SEVERITIES: Final[tuple[RankedSeverity, ...]] = get_args(RankedSeverity)
# On the wire a severity may also be NONE: a CVSS base score of 0.0 rates "None" (it ranks with UNKNOWN).
Severity = Literal[RankedSeverity, "NONE"]

# A finding's lifecycle change; ``unchanged`` only when a redelivered scan is handled again.
LifecycleState = Literal["new", "changed", "resolved", "unchanged"]
LIFECYCLE_STATES: Final[tuple[LifecycleState, ...]] = get_args(LifecycleState)

# An image's scan status in the store (too_large: over max_image_size_mb, never pulled).
ImageStatus = Literal["pending", "scanning", "scanned", "failed", "too_large"]
IMAGE_STATUSES: Final[tuple[ImageStatus, ...]] = get_args(ImageStatus)

# Why a scan was requested ("" on rows never requested).
ScanReason = Literal["new", "analyzer-changed", "ruleset-changed", "requested", "retry"]
SCAN_REASONS: Final[tuple[ScanReason, ...]] = get_args(ScanReason)

# Whether a fix exists ("": not known, e.g. no advisory data says).
FixState = Literal["", "fixed", "not-fixed", "wont-fix"]
FIX_STATES: Final[tuple[FixState, ...]] = tuple(s for s in get_args(FixState) if s)

# What content analyzers report (``Detection.category``) ...
DetectionCategory = Literal[
    "InsecureContent", "MaliciousFile", "MaliciousURL", "MaliciousIP", "InsecureCode", "Package"
]
DETECTION_CATEGORIES: Final[tuple[DetectionCategory, ...]] = get_args(DetectionCategory)
# ... and what a finding can be: an advisory match, a coverage gap, a threshold, or a detection.
Category = Literal["CVE", "Coverage", "ImageScan", DetectionCategory]
CATEGORIES: Final[tuple[Category, ...]] = ("CVE", "Coverage", "ImageScan", *DETECTION_CATEGORIES)
# What a content bundle on ``assay.advisories.v1`` carries: threat feeds for the URL/IP analyzer,
# YARA rules and SHA-256 hash lists for the malware analyzer.
BundleKind = Literal["threat-feeds", "yara-rules", "hash-list"]
BUNDLE_KINDS: Final[tuple[BundleKind, ...]] = get_args(BundleKind)


def is_severity(value: str) -> TypeGuard[Severity]:
    """Whether ``value`` is a wire severity (exact spelling, NONE included)."""
    return value in get_args(Severity)


def as_severity(value: str) -> Severity:
    """``value`` as a wire severity; ``ValueError`` naming the allowed values when it is not one."""
    if is_severity(value):
        return value
    raise ValueError(f"severity {value!r} is not one of {', '.join(get_args(Severity))}")


def severity_rank(severity: str) -> int:
    """A severity's place in ``SEVERITIES`` (0: CRITICAL), case-insensitive; anything else ranks
    with UNKNOWN, last."""
    upper = severity.upper()
    return SEVERITIES.index(upper) if upper in SEVERITIES else len(SEVERITIES) - 1


def severity_rank_sql(column: str) -> str:
    """A SQL expression giving ``column``'s ``severity_rank`` (case-insensitive, others last)."""
    whens = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(SEVERITIES[:-1]))
    return f"(CASE upper({column}) {whens} ELSE {len(SEVERITIES) - 1} END)"
