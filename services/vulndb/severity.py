"""One severity word for an advisory: CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN.

Taken, in order, from a textual severity the publisher gave
(``database_specific.severity``, then ``affected[].ecosystem_specific.severity``), then
from ``severity[]``: a numeric score or a CVSS v3.x vector (whose base score is computed
here) mapped by the NVD bands, or a distro's own priority word (type ``Ubuntu``). With
several scored entries the highest wins. CVSS v2 and v4 vectors are not scored yet.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Final

from services.vulndb import osv

UNKNOWN: Final = "UNKNOWN"
_RANK: Final = {"UNKNOWN": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}
_WORDS: Final = {
    "CRITICAL": "CRITICAL",
    "HIGH": "HIGH",
    "IMPORTANT": "HIGH",  # Red Hat
    "MEDIUM": "MEDIUM",
    "MODERATE": "MEDIUM",  # GHSA, Red Hat
    "LOW": "LOW",
    "NEGLIGIBLE": "LOW",  # Ubuntu, Debian
    "UNIMPORTANT": "LOW",  # Debian tracker
}

# CVSS v3.x base metric weights (FIRST CVSS v3.1 specification, section 7.4).
_AV: Final = {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
_AC: Final = {"L": 0.77, "H": 0.44}
_PR_UNCHANGED: Final = {"N": 0.85, "L": 0.62, "H": 0.27}
_PR_CHANGED: Final = {"N": 0.85, "L": 0.68, "H": 0.5}
_UI: Final = {"N": 0.85, "R": 0.62}
_CIA: Final = {"H": 0.56, "L": 0.22, "N": 0.0}


def rank(word: str) -> int:
    """Order of severity words: UNKNOWN < LOW < MEDIUM < HIGH < CRITICAL."""
    return _RANK.get(word, 0)


def normalize(word: str) -> str:
    """A publisher's severity word in Assay's vocabulary, or UNKNOWN."""
    return _WORDS.get(word.strip().upper(), UNKNOWN)


def band(score: float) -> str:
    """NVD qualitative band of a CVSS score (0.0, "None", counts as UNKNOWN)."""
    if score >= 9.0:
        return "CRITICAL"
    if score >= 7.0:
        return "HIGH"
    if score >= 4.0:
        return "MEDIUM"
    if score > 0.0:
        return "LOW"
    return UNKNOWN


def _roundup(x: float) -> float:
    # CVSS v3.1 Appendix A: round up to one decimal, robust to floating-point noise.
    n = round(x * 100000)
    return n / 100000.0 if n % 10000 == 0 else (math.floor(n / 10000) + 1) / 10.0


def cvss3_base_score(vector: str) -> float | None:
    """Base score of a ``CVSS:3.0/...`` or ``CVSS:3.1/...`` vector; None if it is not one."""
    parts = vector.strip().split("/")
    if not parts or parts[0] not in ("CVSS:3.0", "CVSS:3.1"):
        return None
    m = dict(p.split(":", 1) for p in parts[1:] if ":" in p)
    try:
        changed = m["S"] == "C"
        if m["S"] not in ("U", "C"):
            return None
        pr = (_PR_CHANGED if changed else _PR_UNCHANGED)[m["PR"]]
        exploitability = 8.22 * _AV[m["AV"]] * _AC[m["AC"]] * pr * _UI[m["UI"]]
        iss = 1 - (1 - _CIA[m["C"]]) * (1 - _CIA[m["I"]]) * (1 - _CIA[m["A"]])
    except KeyError:
        return None
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    if impact <= 0:
        return 0.0
    total = 1.08 * (impact + exploitability) if changed else impact + exploitability
    return _roundup(min(total, 10.0))


def _from_entry(entry: osv.Severity) -> str:
    score = entry.score.strip()
    try:
        return band(float(score))
    except ValueError:
        pass
    if entry.type in ("CVSS_V3", "") and score.startswith("CVSS:3"):
        value = cvss3_base_score(score)
        return band(value) if value is not None else UNKNOWN
    return normalize(score)


def _word(obj: Mapping[str, Any] | None) -> str:
    value = obj.get("severity") if obj else None
    return normalize(value) if isinstance(value, str) else UNKNOWN


def severity_of(
    database_specific: Mapping[str, Any] | None,
    ecosystem_specific: Iterable[Mapping[str, Any] | None],
    entries: Iterable[osv.Severity],
) -> str:
    """The severity word for an advisory (see the module docstring for the order)."""
    word = _word(database_specific)
    if word != UNKNOWN:
        return word
    for obj in ecosystem_specific:
        word = _word(obj)
        if word != UNKNOWN:
            return word
    best = UNKNOWN
    for entry in entries:
        word = _from_entry(entry)
        if _RANK[word] > _RANK[best]:
            best = word
    return best
