"""A yum/dnf ``updateinfo.xml`` errata feed as OSV records (Rocky Linux, Amazon Linux, Oracle Linux).

The distributions that publish no OSV data of their own still publish their security
errata where ``dnf updateinfo`` reads them: ``repodata/updateinfo.xml(.gz)`` beside the
packages (Rocky's RLSA, Amazon's ALAS, Oracle's ELSA). Each ``<update type="security">``
becomes one OSV record:

* ``id``, ``summary`` (the title, which carries the rating: "Moderate: lz4 security
  update"), ``details``, ``published``/``modified`` (issued/updated dates, UTC);
* ``related``: the CVE ids among its references (as OSV's RHSA and ALSA records do);
* ``database_specific.severity``: the vendor's rating (``<severity>``), which
  ``severity.assess`` takes as the distribution's own word;
* one ``affected`` entry per binary package name and fixed epoch:version-release, in
  ``ecosystem`` (given, or derived from ``<release>``: "Rocky Linux 8" is ``Rocky Linux:8``),
  with ``introduced: 0`` and ``fixed``; the source RPM's name is listed too, so a package is
  found by either name.

The same update as one JSON document, as Trivy's vuln-list mirror stores each (``id``,
``title``, ``issued.date``, ``severity``, ``packages[]``, ``references[]``, ``cveids[]``),
reads the same way; it has no ``<release>``, so it needs ``ecosystem`` unless its ALAS id names
it. Oracle's errata come as OVAL definitions rather than updateinfo; the same entry point reads
them (``elsa.py``).

Pure: bytes in, OSV JSON out. ``python -m services.vulndb.updateinfo FILE [ECOSYSTEM] OUTDIR``
writes one ``<id>.json`` per record into a folder ``assay db update --source`` reads.
"""

from __future__ import annotations

import gzip
import re
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from xml.etree import ElementTree
from xml.etree.ElementTree import Element, SubElement

import msgspec

from services.vulndb import elsa

__all__ = ["UpdateinfoError", "main", "records"]

_RELEASE: Final = re.compile(r"^(?P<name>.*\S)\s+(?P<major>\d+)(?:\.\d+)*$")
# Amazon's ids name the release: ALAS2023-..., ALAS2-..., ALAS-... (Amazon Linux AMI, "1"), and
# Amazon Linux 2's Extras topics after it (ALAS2KERNEL-5.10-2022-001, ALAS2NITRO-ENCLAVES-2023-002)
_ALAS: Final = re.compile(r"^ALAS(?P<release>\d*)(?:[A-Z][A-Z0-9.-]*?)?-\d{4}-\d+$")
_SRPM: Final = re.compile(r"^(?P<name>.+)-[^-]+-[^-]+\.src\.rpm$")
_DATE_FORMATS: Final = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


class UpdateinfoError(ValueError):
    """The bytes are not an updateinfo document (or not XML at all)."""


def _text(node: Element, tag: str) -> str:
    child = node.find(tag)
    return (child.text or "").strip() if child is not None else ""


def _date(node: Element, tag: str) -> str:
    child = node.find(tag)
    raw = (child.get("date", "") if child is not None else "").strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt).strftime("%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            continue
    return ""


def _ecosystem(update: Element, given: str) -> str:
    """``given``, else from ``<release>``, the pkglist collection's ``<name>`` or an ALAS id."""
    if given:
        return given
    for text in (_text(update, "release"), _text(update, "pkglist/collection/name")):
        m = _RELEASE.match(text)
        if m:
            return f"{m.group('name')}:{m.group('major')}"
    m = _ALAS.match(_text(update, "id"))
    return f"Amazon Linux:{m.group('release') or '1'}" if m else ""


def _fixes(update: Element) -> dict[tuple[str, str], None]:
    """(package name, fixed epoch:version-release) of every binary package, and of its source RPM."""
    out: dict[tuple[str, str], None] = {}
    for pkg in update.iter("package"):
        name, version, release = pkg.get("name", ""), pkg.get("version", ""), pkg.get("release", "")
        if not (name and version and release):
            continue
        epoch = pkg.get("epoch", "")
        evr = f"{epoch}:{version}-{release}" if epoch not in ("", "0") else f"{version}-{release}"
        src = _SRPM.match(pkg.get("src", ""))
        for each in (name, src.group("name") if src else ""):
            if each:
                out[(each, evr)] = None
    return out


def _record(update: Element, ecosystem: str) -> dict[str, Any] | None:
    ident = _text(update, "id")
    eco = _ecosystem(update, ecosystem)
    if update.get("type") != "security" or not ident or not eco:
        return None
    every = list(update.iter("reference"))
    cves = list(dict.fromkeys(r.get("id", "") for r in every if r.get("type") == "cve" and r.get("id")))
    refs = [r for r in every if r.get("href")]
    affected = [
        {
            "package": {"ecosystem": eco, "name": name},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": evr}]}],
        }
        for name, evr in _fixes(update)
    ]
    if not affected:
        return None
    published = _date(update, "issued")
    return {
        "id": ident,
        "modified": _date(update, "updated") or published,
        "published": published,
        "summary": _text(update, "title"),
        "details": _text(update, "description"),
        "related": cves,
        "affected": affected,
        "references": [
            {"type": "ADVISORY" if r.get("type") == "self" else "REPORT", "url": r.get("href", "")}
            for r in refs
        ],
        "database_specific": {
            "severity": _text(update, "severity"),
            "release": _text(update, "release"),
            "source": "updateinfo.xml",
        },
    }


def _from_json(doc: dict[str, Any]) -> Element:
    """A vuln-list JSON update as the ``<update>`` element it was made from."""
    update = Element("update", {"type": "security"})  # the mirror keeps security updates only
    for tag in ("id", "title", "severity", "description"):
        SubElement(update, tag).text = str(doc.get(tag) or "")
    for tag in ("issued", "updated"):
        stamp = doc.get(tag)
        SubElement(update, tag, {"date": str(stamp.get("date", "")) if isinstance(stamp, dict) else ""})
    refs = SubElement(update, "references")
    listed = [r for r in doc.get("references") or () if isinstance(r, dict)]
    for ref in listed:
        SubElement(refs, "reference", {k: str(ref.get(k) or "") for k in ("href", "id", "type")})
    for cve in doc.get("cveids") or ():
        if isinstance(cve, str) and not any(r.get("id") == cve for r in listed):
            SubElement(refs, "reference", {"id": cve, "type": "cve"})
    collection = SubElement(SubElement(update, "pkglist"), "collection")
    for pkg in doc.get("packages") or ():
        if isinstance(pkg, dict):
            keys = ("name", "epoch", "version", "release", "arch", "src")
            SubElement(collection, "package", {k: str(pkg.get(k) or "") for k in keys})
    return update


def _json(data: bytes) -> Any:
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise UpdateinfoError(f"not JSON: {exc}") from exc


def _updates(data: bytes, ecosystem: str) -> list[Element]:
    if data.lstrip()[:1] == b"{":
        doc = _json(data)
        if not isinstance(doc, dict) or "id" not in doc:
            raise UpdateinfoError("not an update document (no id)")
        if not ecosystem and not _ALAS.match(str(doc["id"])):  # an ALAS id names its release
            raise UpdateinfoError("a JSON update names no release: give its ecosystem")
        return [_from_json(doc)]
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:  # no entity expansion from a mirror's file
        raise UpdateinfoError("DTDs are not allowed in updateinfo.xml")
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise UpdateinfoError(f"not XML: {exc}") from exc
    if root.tag != "updates":
        raise UpdateinfoError(f"root element is <{root.tag}>, not <updates>")
    return list(root.iter("update"))


def records(data: bytes, ecosystem: str = "") -> Iterator[dict[str, Any]]:
    """The OSV records (as JSON-ready dicts) of the security updates in an updateinfo document.

    ``data`` is an updateinfo.xml (may be gzip-compressed), one vuln-list JSON update, or one
    vuln-list Oracle OVAL definition (``elsa.py``: it names its own releases).
    ``ecosystem`` (e.g. ``"Amazon Linux:2023"``) overrides the one derived from each update's
    ``<release>``; an XML update without either is skipped. Raises ``UpdateinfoError`` when
    ``data`` is neither (or is JSON and no ``ecosystem`` is given).
    """
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise UpdateinfoError(f"not a gzip stream: {exc}") from exc
    if data.lstrip()[:1] == b"{" and elsa.is_elsa_document(doc := _json(data)):
        yield from elsa.records(doc)
        return
    for update in _updates(data, ecosystem):
        found = _record(update, ecosystem)
        if found is not None:
            yield found


def main(argv: list[str] | None = None) -> int:
    """``FILE [ECOSYSTEM] OUTDIR``: write each security update of FILE as ``OUTDIR/<id>.json``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (2, 3):
        print("usage: python -m services.vulndb.updateinfo FILE [ECOSYSTEM] OUTDIR", file=sys.stderr)
        return 2
    source, out = Path(args[0]), Path(args[-1])
    try:
        found = list(records(source.read_bytes(), args[1] if len(args) == 3 else ""))
    except (OSError, UpdateinfoError) as exc:
        print(f"updateinfo: {source}: {exc}", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    for record in found:
        (out / f"{record['id'].replace(':', '_')}.json").write_bytes(msgspec.json.encode(record))
    print(f"{len(found)} security updates written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
