"""CVSS ratings keyed by CVE id, read from CVE JSON 5 records (the CVE List, ``CVEProject/cvelistV5``).

OSV's Debian and Alpine records carry no severity, so a finding for a CVE they name would
stay UNKNOWN; the CVE record itself usually rates it. A record (``cves/<year>/<bucket>/
CVE-*.json``, ``dataType: CVE_RECORD``) holds:

* the CNA's container (``containers.cna``): ``metrics[]`` with ``cvssV4_0``, ``cvssV3_1``,
  ``cvssV3_0`` or ``cvssV2_0`` objects (each with a ``vectorString``), or a qualitative
  rating of the CNA's own policy as ``other.content.text`` (OpenSSL writes "Low",
  "Moderate", "High");
* ADP containers (``containers.adp[]``): CISA's "Vulnrichment" adds ``cvssV3_1`` metrics to
  records whose CNA gave none (and SSVC decisions, which are not severities).

``ratings(data)`` turns one record into ``Rating`` rows, one per (provider, kind): the
score is recomputed from the vector by the ``cvss`` package (a vector that does not parse is
dropped, never trusted for its stated score), a word is mapped to Assay's vocabulary.
Rejected records give no rows. ``advisory_ratings`` adds what the stored OSV advisories say
of the CVEs they name (a GHSA's or RubySec's CVSS), rebuilt with every database update.
``best`` picks the rating a finding should carry: the CNA's CVSS (newest specification
first), then CISA's, then another ADP's, then the CNA's own word (OpenSSL's "Low"), then an
advisory database's CVSS, then its word.
``rate_match`` gives a finding the rating of its CVE(s) when its advisories gave it none
(Trivy's order: the vendor's word, else the CVE's CVSS), and a CVSS score when it has a
word but no score. Pure: bytes in, rows out; reading files and the database is elsewhere.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import msgspec

from schemas.records import VulnMatch
from services.vulndb import osv
from services.vulndb.severity import UNKNOWN, cvss_score, normalize, publisher_rating, rank, rating
from services.vulndb.sources import Problem, read_json_dir, read_zip

__all__ = ["Rating", "advisory_ratings", "best", "rate_match", "ratings", "read_ratings"]

# CVE JSON 5 metric keys, newest specification first.
_METRIC_KEYS: Final = ("cvssV4_0", "cvssV3_1", "cvssV3_0", "cvssV2_0")
_KIND_ORDER: Final = {"cvss_v4": 0, "cvss_v3": 1, "cvss_v2": 2, "rating": 3}
_DECODER: Final = msgspec.json.Decoder()
_IDS: Final = msgspec.json.Decoder(tuple[str, ...])
_SEVERITIES: Final = msgspec.json.Decoder(tuple[osv.Severity, ...])
_CVSS_KINDS: Final = frozenset({"cvss_v4", "cvss_v3", "cvss_v2"})


class Rating(msgspec.Struct, frozen=True, kw_only=True):
    """One severity statement about a CVE in its CVE record.

    ``provider`` is ``cna:<shortName>`` or ``adp:<shortName>`` (``adp:CISA-ADP``) of the CVE
    record, or ``osv:<advisory id>``; ``kind`` is ``cvss_v4``, ``cvss_v3``, ``cvss_v2`` (a
    score, with its vector when one was given) or ``rating`` (a word without a score).
    """

    cve: str
    provider: str
    kind: str
    severity: str
    score: float = 0.0
    vector: str = ""

    @property
    def source(self) -> str:
        """What a report names as the severity's origin: ``cna:openssl/rating``, ``adp:CISA-ADP/cvss_v3``."""
        return f"{self.provider}/{self.kind}"


def _provider(container: Mapping[str, Any], role: str) -> str:
    meta = container.get("providerMetadata")
    name = meta.get("shortName") if isinstance(meta, dict) else None
    return f"{role}:{name}" if isinstance(name, str) and name else role


def _metric_ratings(cve: str, provider: str, metric: Mapping[str, Any], words: bool) -> Iterator[Rating]:
    for key in _METRIC_KEYS:
        body = metric.get(key)
        vector = body.get("vectorString") if isinstance(body, dict) else None
        found = cvss_score(vector) if isinstance(vector, str) else None
        if found is not None:
            kind, score, clean = found
            yield Rating(
                cve=cve, provider=provider, kind=kind, severity=rating(score, kind), score=score, vector=clean
            )
    other = metric.get("other")
    content = other.get("content") if isinstance(other, dict) else None
    text = content.get("text") if isinstance(content, dict) else None
    if words and isinstance(text, str) and normalize(text) != UNKNOWN:
        yield Rating(cve=cve, provider=provider, kind="rating", severity=normalize(text))


def ratings(data: bytes) -> list[Rating]:
    """The ratings one CVE JSON 5 record gives (none for a rejected record or one without metrics).

    Raises ``msgspec.DecodeError`` for bytes that are not JSON and ``ValueError`` for JSON
    that is not a CVE record.
    """
    doc = _DECODER.decode(data)
    meta = doc.get("cveMetadata") if isinstance(doc, dict) else None
    cve = meta.get("cveId") if isinstance(meta, dict) else None
    if not isinstance(meta, dict) or not isinstance(cve, str) or not cve.upper().startswith("CVE-"):
        raise ValueError("not a CVE JSON 5 record (no cveMetadata.cveId)")
    if str(meta.get("state", "")).upper() == "REJECTED":
        return []
    containers = doc.get("containers")
    if not isinstance(containers, dict):
        return []
    found: dict[tuple[str, str], Rating] = {}
    cna = containers.get("cna")
    sides: list[tuple[str, Mapping[str, Any]]] = [("cna", cna)] if isinstance(cna, dict) else []
    sides += [("adp", a) for a in containers.get("adp") or () if isinstance(a, dict)]
    for role, container in sides:
        provider = _provider(container, role)
        for metric in container.get("metrics") or ():
            if isinstance(metric, dict):
                # Only a CNA's word rates the CVE; an ADP's "other" entries are SSVC decisions.
                for r in _metric_ratings(cve.upper(), provider, metric, words=role == "cna"):
                    # one row per (provider, kind): the highest score of that kind
                    key = (r.provider, r.kind)
                    if key not in found or r.score > found[key].score:
                        found[key] = r
    return list(found.values())


def _rank(r: Rating) -> tuple[int, int]:
    origin = r.provider.split(":", 1)[0]
    word = r.kind == "rating"
    if origin == "cna":
        tier = 4 if word else 0
    elif origin == "adp":
        tier = 7 if word else 1 if r.provider == "adp:CISA-ADP" else 3
    elif origin == "nvd":
        tier = 2 if r.provider == "nvd" else 3
    else:
        tier = 6 if word else 5
    return (tier, {"cvss_v4": 0, "cvss_v3": 1, "cvss_v2": 2}.get(r.kind, 3))


def best(rows: Iterable[Rating]) -> Rating | None:
    """The rating a finding for this CVE carries: CNA CVSS, then CISA-ADP CVSS, NVD's own CVSS
    (``cvss_nvd``), other ADPs' and NVD's copies of others', the CNA's word, then an advisory's."""
    return min(rows, key=_rank, default=None)


def rate_match(match: VulnMatch, per_cve: Iterable[Iterable[Rating]]) -> VulnMatch:
    """``match`` with the best rating among its CVEs' (``per_cve``: each CVE's ratings) where it
    lacks one: an UNKNOWN severity takes the rating, its score, vector and source; a known
    severity without a CVSS score keeps its word and source and takes the score and vector."""
    found = [b for rows in per_cve if (b := best(rows)) is not None]
    if not found:
        return match
    top = max(found, key=lambda r: (rank(r.severity), r.score))
    if match.severity == UNKNOWN and top.severity != UNKNOWN:
        return msgspec.structs.replace(
            match,
            severity=top.severity,
            cvss_score=top.score or match.cvss_score,
            cvss_vector=top.vector or match.cvss_vector,
            severity_source=top.source,
        )
    scored = max((r for r in found if r.vector), key=lambda r: r.score, default=None)
    if not match.cvss_score and scored is not None:
        return msgspec.structs.replace(match, cvss_score=scored.score, cvss_vector=scored.vector)
    return match


def advisory_ratings(rows: Iterable[tuple[str, str, str, str | None]]) -> Iterator[Rating]:
    """What stored OSV advisories rate the CVEs they name: rows of (id, aliases, severity,
    database_specific) as the ``advisories`` table holds them (JSON text)."""
    for ident, aliases_json, severity_json, specific_json in rows:
        try:
            cves = {i.upper() for i in (ident, *_IDS.decode(aliases_json)) if i.upper().startswith("CVE-")}
            if not cves:
                continue
            specific = _DECODER.decode(specific_json) if specific_json else None
            found = publisher_rating(
                ident, _SEVERITIES.decode(severity_json), specific if isinstance(specific, dict) else None
            )
        except msgspec.MsgspecError:
            continue
        if found.severity == UNKNOWN:
            continue
        kind = found.source if found.source in _CVSS_KINDS else "rating"
        for cve in sorted(cves):
            yield Rating(
                cve=cve,
                provider=f"osv:{ident}",
                kind=kind,
                severity=found.severity,
                score=found.score,
                vector=found.vector,
            )


def _items(path: Path) -> Iterator[tuple[str, bytes] | Problem]:
    """The JSON files of a directory or a zip; a zip's inner zips too (the CVE List's release
    asset wraps ``cves.zip`` in another zip), each unpacked to a temporary file beside it."""
    if path.is_dir():
        yield from read_json_dir(path)
        return
    yield from read_zip(path)
    with zipfile.ZipFile(path) as outer:
        inner = [i for i in outer.infolist() if i.filename.endswith(".zip")]
        for info in inner:
            with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".zip") as tmp:
                with outer.open(info) as src:
                    shutil.copyfileobj(src, tmp)
                tmp.flush()
                yield from read_zip(Path(tmp.name))


def read_ratings(
    path: Path, problems: list[str], parse: Callable[[bytes], list[Rating]] = ratings
) -> Iterator[Rating]:
    """Every rating in a tree of CVE records: a directory, a zip of the records (the CVE List's
    delta files), or a zip of such zips (its all-records release asset). ``parse`` reads one
    file (``cvss_nvd.record_ratings`` also takes NVD API 2.0 records).

    A file that is not a CVE record is added to ``problems`` (name and reason) and skipped.
    """
    for item in _items(path):
        if isinstance(item, Problem):
            problems.append(f"{item.name}: {item.reason}")
            continue
        name, data = item
        try:
            yield from parse(data)
        except (msgspec.DecodeError, ValueError) as exc:
            problems.append(f"{name}: {exc}")
