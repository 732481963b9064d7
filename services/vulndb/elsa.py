"""Oracle Linux's ELSA errata as OSV records, from Oracle's OVAL definitions.

Oracle publishes its security errata as OVAL (``com.oracle.elsa-all.xml``); Trivy reads them
through its vuln-list mirror, one JSON document per definition (``oracle/<year>/ELSA-*.json``:
``Title``, ``Description``, ``Platform``, ``References``, ``Criteria``, ``Severity``, ``Cves``,
``Issued``). Each document becomes one OSV record:

* ``id``: the ELSA id (the ``elsa`` reference, else the title's first word); ``related``: the
  CVE ids; ``database_specific.severity``: Oracle's rating (``IMPORTANT``, ``MODERATE``, ...),
  which ``severity.assess`` takes as the distribution's own word; ``severity``: the highest
  CVSS v3 vector Oracle gives among the CVEs (reported as the score beside the rating);
* one ``affected`` entry per (release, package) from each criterion ``NAME is earlier than
  EPOCH:VERSION-RELEASE``, in ``Oracle Linux:<major>``: the release is the one named by the
  nearest enclosing ``Oracle Linux N is installed`` criterion (else every ``Platform``), with
  ``introduced: 0`` and ``fixed`` (epoch 0 dropped). When the definition lists a package twice
  for one release (once per architecture), the lowest fix is kept.

Ksplice fixes (a release containing ``.ksplice``) are left out: they patch a running host's
kernel or libraries in place, and their version numbers do not order against the packages an
image installs (Trivy likewise compares them only with Ksplice packages).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

from services.vulndb.versions import rpm
from services.vulndb.versions.base import InvalidVersion

__all__ = ["is_elsa_document", "records"]

_EARLIER: Final = re.compile(r"^(?P<name>\S+) is earlier than (?P<evr>\S+)$")
_INSTALLED: Final = re.compile(r"^Oracle Linux (?P<major>\d+)\b.* is installed$")
_PLATFORM: Final = re.compile(r"^Oracle Linux (?P<major>\d+)")
_CVE: Final = re.compile(r"^CVE-\d{4}-\d+$")


def is_elsa_document(doc: object) -> bool:
    """Whether a decoded JSON document is one vuln-list Oracle OVAL definition."""
    return isinstance(doc, dict) and "Criteria" in doc and "Title" in doc


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _fixes(node: Any, platforms: tuple[str, ...], out: dict[tuple[str, str], str]) -> None:
    """Walk a criteria tree, recording the lowest fix per (major release, package name)."""
    if not isinstance(node, dict):
        return
    comments = [str(c.get("Comment", "")) for c in _list(node.get("Criterions")) if isinstance(c, dict)]
    named = tuple(m.group("major") for c in comments if (m := _INSTALLED.match(c)))
    here = named or platforms
    for comment in comments:
        m = _EARLIER.match(comment)
        if m is None or ".ksplice" in m.group("evr"):
            continue
        evr = m.group("evr").removeprefix("0:")
        for major in here:
            key = (major, m.group("name"))
            if key not in out or _lower(evr, out[key]):
                out[key] = evr
    for child in _list(node.get("Criterias")):
        _fixes(child, here, out)


def _lower(a: str, b: str) -> bool:
    try:
        return rpm.compare(a, b) < 0
    except InvalidVersion:
        return False


def _cvss(doc: dict[str, Any]) -> list[dict[str, str]]:
    """The highest-scored ``CVSS3`` of the definition's CVEs (Oracle writes "5.5/CVSS:3.1/AV:...")."""
    best: tuple[float, str] | None = None
    for cve in _list(doc.get("Cves")):
        score, _, vector = str(cve.get("CVSS3", "") if isinstance(cve, dict) else "").partition("/")
        try:
            found = (float(score), vector)
        except ValueError:
            continue
        if vector.startswith("CVSS:3") and (best is None or found > best):
            best = found
    return [{"type": "CVSS_V3", "score": best[1]}] if best else []


def _ident(doc: dict[str, Any]) -> str:
    for ref in _list(doc.get("References")):
        if isinstance(ref, dict) and str(ref.get("Source", "")).lower() == "elsa" and ref.get("ID"):
            return str(ref["ID"])
    words = str(doc.get("Title", "")).split(":", 1)[0].split()
    return words[0] if words else ""


def _record(doc: dict[str, Any]) -> dict[str, Any] | None:
    ident = _ident(doc)
    platforms = tuple(m.group("major") for p in _list(doc.get("Platform")) if (m := _PLATFORM.match(str(p))))
    fixes: dict[tuple[str, str], str] = {}
    _fixes(doc.get("Criteria"), platforms, fixes)
    if not ident or not fixes:
        return None
    cves = [str(c.get("ID")) for c in _list(doc.get("Cves")) if isinstance(c, dict)]
    issued = doc.get("Issued")
    day = str(issued.get("Date", "")) if isinstance(issued, dict) else ""
    stamp = f"{day}T00:00:00Z" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", day) else ""
    title = " ".join(str(doc.get("Title", "")).split())
    return {
        "id": ident,
        "modified": stamp,
        "published": stamp,
        "summary": title.removeprefix(f"{ident}:").strip(),
        "details": str(doc.get("Description", "")).strip(),
        "related": list(dict.fromkeys(c for c in cves if _CVE.match(c))),
        "severity": _cvss(doc),
        "affected": [
            {
                "package": {"ecosystem": f"Oracle Linux:{major}", "name": name},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixes[(major, name)]}]}
                ],
            }
            for major, name in sorted(fixes, key=lambda k: (int(k[0]), k[1]))
        ],
        "references": [
            {
                "type": "ADVISORY" if str(r.get("Source", "")).lower() == "elsa" else "REPORT",
                "url": str(r["URI"]),
            }
            for r in _list(doc.get("References"))
            if isinstance(r, dict) and r.get("URI")
        ],
        "database_specific": {"severity": str(doc.get("Severity", "")), "source": "oracle-oval"},
    }


def records(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The OSV record (as a JSON-ready dict) of one vuln-list Oracle OVAL definition, if it fixes packages."""
    found = _record(doc)
    if found is not None:
        yield found
