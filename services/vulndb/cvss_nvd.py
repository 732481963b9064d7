"""CVSS ratings keyed by CVE id from NVD's CVE API 2.0 records, beside the CVE List's.

A CVE List record (CVE JSON 5) often carries no score: MITRE-era records, and CNAs such as
Go's or curl's that do not score, are rated only by NVD's analysts (and sometimes by CISA's
ADP). NVD's API (``https://services.nvd.nist.gov/rest/json/cves/2.0``) answers pages of
``{"vulnerabilities": [{"cve": {...}}], "totalResults": N, ...}``; mirrors of it keep one
``cve`` object per file (``CVE-2023/CVE-2023-452xx/CVE-2023-45288.json``). A ``cve`` object
has ``id``, ``vulnStatus`` and ``metrics``: ``cvssMetricV40``, ``cvssMetricV31``,
``cvssMetricV30`` and ``cvssMetricV2`` lists, each entry with ``source``, ``type``
(``Primary`` is NVD's own analysis, ``Secondary`` a CNA's or ADP's score that NVD copies)
and ``cvssData.vectorString``.

``nvd_ratings`` turns one ``cve`` object into ``Rating`` rows, one per (provider, kind):
``nvd`` for NVD's primary scores, ``nvd:<source>`` for a secondary one (``adp:CISA-ADP``
for CISA's, as its CVE record names it); the score is
recomputed from the vector as for CVE JSON 5 records, and a ``Rejected`` record gives none.
``record_ratings`` reads any of the three shapes (a CVE JSON 5 record, an API page, a
mirror's ``cve`` object), so one ``--cvss`` folder may mix them. Pure: bytes in, rows out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

import msgspec

from services.vulndb.cvss_source import Rating, ratings
from services.vulndb.severity import cvss_score, rating

__all__ = ["nvd_ratings", "record_ratings"]

# NVD metric lists, newest specification first.
_NVD_KEYS: Final = ("cvssMetricV40", "cvssMetricV31", "cvssMetricV30", "cvssMetricV2")
_DECODER: Final = msgspec.json.Decoder()
# NVD names a secondary score's source by the org's e-mail or CVE org id; CISA's ADP (whose
# Vulnrichment scores NVD copies) is named as the CVE record names it, so both sources agree.
_KNOWN_SOURCES: Final = {"134c704f-9b21-4f2e-91b3-4a467353bcc0": "adp:CISA-ADP"}


def _provider(kind: object, source: str) -> str:
    if kind == "Primary" or not source:
        return "nvd"
    return _KNOWN_SOURCES.get(source, f"nvd:{source}")


def _entries(cve: str, metrics: Mapping[str, Any]) -> Iterator[Rating]:
    for key in _NVD_KEYS:
        for entry in metrics.get(key) or ():
            data = entry.get("cvssData") if isinstance(entry, dict) else None
            vector = data.get("vectorString") if isinstance(data, dict) else None
            found = cvss_score(vector) if isinstance(vector, str) else None
            if found is None:
                continue
            kind, score, clean = found
            source = str(entry.get("source") or "")
            provider = _provider(entry.get("type"), source)
            yield Rating(
                cve=cve, provider=provider, kind=kind, severity=rating(score, kind), score=score, vector=clean
            )


def nvd_ratings(cve_obj: Mapping[str, Any]) -> list[Rating]:
    """The ratings one NVD API 2.0 ``cve`` object gives (none when rejected or unscored).

    Raises ``ValueError`` for an object without a ``CVE-`` id.
    """
    cve = cve_obj.get("id")
    if not isinstance(cve, str) or not cve.upper().startswith("CVE-"):
        raise ValueError("not an NVD CVE record (no id)")
    if str(cve_obj.get("vulnStatus", "")).lower() == "rejected":
        return []
    metrics = cve_obj.get("metrics")
    if not isinstance(metrics, dict):
        return []
    found: dict[tuple[str, str], Rating] = {}
    for r in _entries(cve.upper(), metrics):
        key = (r.provider, r.kind)  # one row per (provider, kind): the newest specification's
        if key not in found:
            found[key] = r
    return list(found.values())


def record_ratings(data: bytes) -> list[Rating]:
    """The ratings of one file: a CVE JSON 5 record, an NVD API 2.0 page, or one NVD ``cve`` object.

    Raises ``msgspec.DecodeError`` for bytes that are not JSON and ``ValueError`` for JSON
    that is none of the three.
    """
    doc = _DECODER.decode(data)
    if not isinstance(doc, dict):
        raise ValueError("not a CVE record (JSON is not an object)")
    if "cveMetadata" in doc:
        return ratings(data)
    if isinstance(doc.get("vulnerabilities"), list):
        out: list[Rating] = []
        for item in doc["vulnerabilities"]:
            cve_obj = item.get("cve") if isinstance(item, dict) else None
            if isinstance(cve_obj, dict):
                out += nvd_ratings(cve_obj)
        return out
    if "id" in doc and ("metrics" in doc or "vulnStatus" in doc):
        return nvd_ratings(doc)
    raise ValueError("neither a CVE JSON 5 record nor an NVD API 2.0 record")
