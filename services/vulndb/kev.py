"""CISA's Known Exploited Vulnerabilities catalog, in its published JSON format.

https://www.cisa.gov/known-exploited-vulnerabilities-catalog — one object with
``catalogVersion``, ``dateReleased`` and ``vulnerabilities[]`` (``cveID``, ``dateAdded``,
``dueDate``, ``knownRansomwareCampaignUse``, ``notes``, ...). ``parse`` is pure: an entry
that does not fit is reported as a problem and skipped; a document that is not a
catalog at all is a ``KevFormatError``.
"""

from __future__ import annotations

import re
from typing import Final

import msgspec

from services.vulndb.store import KevRow

DEFAULT_URL: Final = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
_CVE: Final = re.compile(r"^CVE-\d{4}-\d{4,}$")


class KevFormatError(ValueError):
    """The document is not a KEV catalog."""


class _Entry(msgspec.Struct, frozen=True):
    cveID: str  # CISA field names
    dateAdded: str = ""
    dueDate: str = ""
    knownRansomwareCampaignUse: str = ""
    notes: str = ""


class _Catalog(msgspec.Struct, frozen=True):
    vulnerabilities: list[msgspec.Raw]
    catalogVersion: str = ""
    dateReleased: str = ""


class Catalog(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed catalog: its version, rows for the ``kev`` table and entries that were skipped."""

    version: str = ""
    released: str = ""
    rows: list[KevRow] = []
    problems: list[str] = []


_CATALOG: Final = msgspec.json.Decoder(_Catalog)
_ENTRY: Final = msgspec.json.Decoder(_Entry)


def parse(data: bytes, name: str = "KEV catalog") -> Catalog:
    """Parse a KEV catalog document; raises ``KevFormatError`` when it is not one."""
    try:
        catalog = _CATALOG.decode(data)
    except msgspec.MsgspecError as exc:
        raise KevFormatError(f"{name} is not a KEV catalog: {exc}") from exc
    rows: list[KevRow] = []
    problems: list[str] = []
    for i, raw in enumerate(catalog.vulnerabilities):
        try:
            entry = _ENTRY.decode(raw)
        except msgspec.MsgspecError as exc:
            problems.append(f"{name}: vulnerabilities[{i}]: {exc}")
            continue
        cve = entry.cveID.strip().upper()
        if not _CVE.match(cve):
            problems.append(f"{name}: vulnerabilities[{i}]: {entry.cveID!r} is not a CVE id")
            continue
        rows.append((cve, entry.dateAdded, entry.dueDate, entry.knownRansomwareCampaignUse, entry.notes))
    return Catalog(
        version=catalog.catalogVersion, released=catalog.dateReleased, rows=rows, problems=problems
    )
