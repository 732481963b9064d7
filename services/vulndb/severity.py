"""How bad an advisory is: a rating word, the CVSS score and vector behind it, and where it came from.

``assess(advisory, ecosystem)`` is what the matcher calls. The rules:

* **OS packages** (Debian, Ubuntu, Red Hat, AlmaLinux, Rocky Linux): the distribution's own
  rating wins, because it judges the package as the distribution builds and ships it —
  Debian's tracker ``urgency`` (``affected[].ecosystem_specific``), Ubuntu's priority
  (``severity[]`` of type ``Ubuntu``, ``ecosystem_specific.ubuntu_priority``,
  ``database_specific.priority``), Red Hat's severity (``database_specific.severity``, the
  CSAF ``aggregate_severity``, or the errata title's "Important: ..." that AlmaLinux's and
  Rocky's advisories keep as their summary). Source names: ``debian``, ``ubuntu``,
  ``redhat``, ``almalinux``, ``rocky``, ``oracle``, ``amazon`` (the last two, like Rocky's
  errata feed, through ``updateinfo.py``).
* **Otherwise** (and for an OS advisory without a vendor word): the CVSS base score computed
  from the newest vector version present (v4.0, then v3.x, then v2), rated per its spec
  (v3/v4: None 0.0, Low 0.1-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0; v2 by the
  NVD ranges Low 0-3.9, Medium 4.0-6.9, High 7.0-10.0). Source ``cvss_v4``, ``cvss_v3``, ``cvss_v2``.
* **Then** a publisher's word without a vector (GHSA's ``database_specific.severity``,
  source ``ghsa``; other databases ``advisory``), then a bare numeric score
  (``database_specific.cvss_v3`` as RubySec gives it).

The CVSS arithmetic is the ``cvss`` package (RedHatProductSecurity/cvss, pinned in
pyproject.toml): it implements v2, v3.0/3.1 and the v4.0 MacroVector lookup tables, which
are far too large to hand-write and keep right. A malformed vector is ignored, never raised.
Whatever the rating's source, the best CVSS score and vector found are reported beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

import msgspec
from cvss import CVSS2, CVSS3, CVSS4, CVSSError

from schemas.vocabulary import SEVERITIES, Severity, severity_rank
from services.vulndb import osv
from services.vulndb.versions import ecosystem_base

if TYPE_CHECKING:  # db's reader returns cvss_source ratings, which rate with this module
    from services.vulndb.db import Advisory

UNKNOWN: Final = "UNKNOWN"
_WORDS: Final[dict[str, Severity]] = {
    "CRITICAL": "CRITICAL",
    "HIGH": "HIGH",
    "IMPORTANT": "HIGH",  # Red Hat
    "MEDIUM": "MEDIUM",
    "MODERATE": "MEDIUM",  # GHSA, Red Hat
    "LOW": "LOW",
    "NEGLIGIBLE": "LOW",  # Ubuntu
    "UNIMPORTANT": "LOW",  # Debian tracker
}
_ERRATA_WORDS: Final = frozenset({"CRITICAL", "IMPORTANT", "MODERATE", "LOW"})
# OSV ecosystem (base) -> source name of the distribution's own rating.
_VENDORS: Final = {
    "Debian": "debian",
    "Ubuntu": "ubuntu",
    "Red Hat": "redhat",
    "AlmaLinux": "almalinux",
    "Rocky Linux": "rocky",
    "Oracle Linux": "oracle",
    "Amazon Linux": "amazon",
}
# Preference among CVSS entries: newest specification first.
_CVSS_ORDER: Final = ("cvss_v4", "cvss_v3", "cvss_v2")


class Assessment(msgspec.Struct, frozen=True, kw_only=True):
    """The severity of one advisory for one ecosystem.

    ``severity`` is CRITICAL, HIGH, MEDIUM, LOW, NONE (a CVSS score of 0.0) or UNKNOWN;
    ``score``/``vector`` are the best CVSS base score found (0.0 / "" when none);
    ``source`` names where ``severity`` came from ("" when UNKNOWN).
    """

    severity: Severity = UNKNOWN
    score: float = 0.0
    vector: str = ""
    source: str = ""


def rank(word: str) -> int:
    """Order of severity words: UNKNOWN = NONE < LOW < MEDIUM < HIGH < CRITICAL (``schemas.vocabulary``)."""
    return len(SEVERITIES) - 1 - severity_rank(word) if word in SEVERITIES else 0


def normalize(word: str) -> Severity:
    """A publisher's severity word in Assay's vocabulary, or UNKNOWN.

    Only the first word counts: Ubuntu writes priorities such as "low (requires JavaScript)".
    """
    parts = word.strip().split(None, 1)
    return _WORDS.get(parts[0].upper(), UNKNOWN) if parts else UNKNOWN


def band(score: float) -> Severity:
    """NVD qualitative band of a CVSS v3/v4 score (0.0, "None", counts as UNKNOWN here)."""
    if score >= 9.0:
        return "CRITICAL"
    if score >= 7.0:
        return "HIGH"
    if score >= 4.0:
        return "MEDIUM"
    if score > 0.0:
        return "LOW"
    return UNKNOWN


def rating(score: float, version: str) -> Severity:
    """The rating the CVSS specification gives ``score``: v2 by the NVD v2 ranges, v3/v4 per spec."""
    if version == "cvss_v2":
        return "HIGH" if score >= 7.0 else "MEDIUM" if score >= 4.0 else "LOW"
    return band(score) if score > 0.0 else "NONE"


def cvss_score(vector: str) -> tuple[str, float, str] | None:
    """(version source, base score, normalised vector) of a CVSS v2/v3.x/v4.0 vector, or None if malformed."""
    text = vector.strip()
    try:
        if text.startswith("CVSS:4.0/"):
            v4 = CVSS4(text)
            return "cvss_v4", float(v4.base_score), str(v4.clean_vector())
        if text.startswith(("CVSS:3.0/", "CVSS:3.1/")):
            v3 = CVSS3(text)
            return "cvss_v3", float(v3.base_score), str(v3.clean_vector())
        if text.startswith("AV:") or text.startswith("(AV:"):
            v2 = CVSS2(text.strip("()"))
            return "cvss_v2", float(v2.base_score), str(v2.clean_vector())
    except (CVSSError, ValueError, KeyError, IndexError, TypeError):
        return None
    return None


def cvss3_base_score(vector: str) -> float | None:
    """Base score of a ``CVSS:3.0/...`` or ``CVSS:3.1/...`` vector; None if it is not one."""
    found = cvss_score(vector)
    return found[1] if found and found[0] == "cvss_v3" else None


def _best_cvss(entries: Iterable[osv.Severity]) -> Assessment | None:
    """The CVSS entry of the newest version present (highest score within a version), rated."""
    best: tuple[int, float, str, str] | None = None  # (version preference, score, source, vector)
    for entry in entries:
        found = cvss_score(entry.score)
        if found is None:
            continue
        source, score, vector = found
        key = (-_CVSS_ORDER.index(source), score, source, vector)
        if best is None or key[:2] > best[:2]:
            best = key
    if best is None:
        return None
    _, score, source, vector = best
    return Assessment(severity=rating(score, source), score=score, vector=vector, source=source)


def _word(obj: Mapping[str, Any] | None, *keys: str) -> Severity:
    for key in keys:
        value = obj.get(key) if obj else None
        if isinstance(value, str) and normalize(value) != UNKNOWN:
            return normalize(value)
    return UNKNOWN


def _vendor_word(advisory: Advisory, base: str) -> Severity:
    """The distribution's own rating word for an advisory, or UNKNOWN."""
    entries = [e.ecosystem_specific for e in advisory.affected]
    if base == "Debian":
        candidates = [_word(obj, "urgency", "severity") for obj in entries]
        candidates.append(_word(advisory.database_specific, "urgency", "severity"))
    elif base == "Ubuntu":
        candidates = [normalize(s.score) for s in advisory.severity if s.type.lower() == "ubuntu"]
        candidates += [_word(obj, "ubuntu_priority", "priority") for obj in entries]
        candidates.append(_word(advisory.database_specific, "priority", "severity"))
    else:
        candidates = [_word(advisory.database_specific, "severity", "aggregate_severity")]
        candidates += [_word(obj, "severity") for obj in entries]
        # Red Hat's errata title carries its rating ("Important: openssl security update"), and the
        # rebuilds' advisories (AlmaLinux's, Rocky's) keep that title as their OSV summary.
        head, colon, _ = advisory.summary.partition(":")
        if colon and head.strip().upper() in _ERRATA_WORDS:
            candidates.append(normalize(head))
    return max(candidates, key=rank, default=UNKNOWN)


def _bare_score(database_specific: Mapping[str, Any] | None) -> Assessment | None:
    """A score without a vector (RubySec's ``cvss_v3: "9.8"``), rated; None when absent."""
    for key, source in (("cvss_v4", "cvss_v4"), ("cvss_v3", "cvss_v3"), ("cvss_v2", "cvss_v2")):
        value = database_specific.get(key) if database_specific else None
        try:
            score = float(value) if isinstance(value, str | int | float) else None
        except ValueError:
            score = None
        if score is not None and 0.0 <= score <= 10.0:
            return Assessment(severity=rating(score, source), score=score, source=source)
    return None


def assess(advisory: Advisory, ecosystem: str) -> Assessment:
    """The severity of ``advisory`` for a package in ``ecosystem`` (an OSV ecosystem string
    such as ``"Debian:12"`` or ``"npm"``). Pure and total: bad data gives UNKNOWN, never raises."""
    base = ecosystem_base(ecosystem)
    cvss = _best_cvss(advisory.severity)
    vendor = _VENDORS.get(base)
    if vendor is not None:
        word = _vendor_word(advisory, base)
        if word != UNKNOWN:
            return Assessment(
                severity=word,
                score=cvss.score if cvss else 0.0,
                vector=cvss.vector if cvss else "",
                source=vendor,
            )
    return cvss or publisher_rating(
        advisory.id,
        advisory.severity,
        advisory.database_specific,
        [e.ecosystem_specific for e in advisory.affected],
    )


def publisher_rating(
    ident: str,
    entries: Iterable[osv.Severity],
    database_specific: Mapping[str, Any] | None,
    ecosystem_specific: Iterable[Mapping[str, Any] | None] = (),
) -> Assessment:
    """The rating an advisory's publisher gives, whatever the ecosystem: its best CVSS vector,
    else its word (``ghsa`` for a GHSA id), else a bare score; UNKNOWN when none."""
    entries = tuple(entries)
    cvss = _best_cvss(entries)
    if cvss is not None:
        return cvss
    word = _word(database_specific, "severity")
    if word == UNKNOWN:
        word = max((_word(e, "severity") for e in ecosystem_specific), key=rank, default=UNKNOWN)
    if word != UNKNOWN:
        return Assessment(severity=word, source="ghsa" if ident.startswith("GHSA-") else "advisory")
    numeric = [_from_number(s) for s in entries]
    best = max((a for a in numeric if a is not None), key=lambda a: a.score, default=None)
    return best or _bare_score(database_specific) or Assessment()


def _from_number(entry: osv.Severity) -> Assessment | None:
    """A ``severity[]`` entry whose score is a bare number rather than a vector."""
    try:
        score = float(entry.score.strip())
    except ValueError:
        return None
    source = {"CVSS_V4": "cvss_v4", "CVSS_V2": "cvss_v2"}.get(entry.type, "cvss_v3")
    if not 0.0 <= score <= 10.0:
        return None
    return Assessment(severity=rating(score, source), score=score, source=source)


def _from_entry(entry: osv.Severity) -> Severity:
    numeric = _from_number(entry)
    if numeric is not None:
        return band(numeric.score)
    found = cvss_score(entry.score)
    if found is not None:
        return rating(found[1], found[0]) if found[1] > 0.0 else UNKNOWN
    return normalize(entry.score)


def severity_of(
    database_specific: Mapping[str, Any] | None,
    ecosystem_specific: Iterable[Mapping[str, Any] | None],
    entries: Iterable[osv.Severity],
) -> str:
    """The publisher-first severity word (kept for callers that have no ``Advisory``; prefer ``assess``).

    A textual ``database_specific.severity``, then ``ecosystem_specific.severity``, then the
    highest rating among ``severity[]`` entries (CVSS vectors, numbers, distro words).
    """
    word = _word(database_specific, "severity")
    if word != UNKNOWN:
        return word
    for obj in ecosystem_specific:
        word = _word(obj, "severity")
        if word != UNKNOWN:
            return word
    return max((_from_entry(e) for e in entries), key=rank, default=UNKNOWN)
