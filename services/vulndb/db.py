"""Read access to the advisory database built by ``update_db``.

``VulnDB.open`` checks the file and its schema version once; ``advisories_for`` answers
the matcher's main question (which advisories name this package in this ecosystem),
decoding each row once and caching the answer per (ecosystem, package).
``known_exploited``, ``epss`` and ``cve_ratings`` look CVE ids up in the CISA KEV catalog,
the FIRST EPSS scores and the CVE records' CVSS ratings loaded by ``assay db update
--kev/--epss/--cvss``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

import msgspec

from services.common.errors import VulnDBError
from services.vulndb import osv
from services.vulndb.cvss_source import Rating
from services.vulndb.store import SCHEMA_VERSION, SourceState, read_sources


class AffectedPackage(msgspec.Struct, frozen=True, kw_only=True):
    """One ``affected[]`` entry of an advisory, for the package that was asked about."""

    ecosystem: str
    package: str
    purl: str = ""
    ranges: tuple[osv.Range, ...] = ()
    versions: tuple[str, ...] = ()
    ecosystem_specific: dict[str, Any] | None = None
    database_specific: dict[str, Any] | None = None


class Advisory(msgspec.Struct, frozen=True, kw_only=True):
    """An OSV advisory as stored, with only the ``affected`` entries of the queried package."""

    id: str
    modified: str = ""
    published: str = ""
    aliases: tuple[str, ...] = ()
    upstream: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    severity: tuple[osv.Severity, ...] = ()
    references: tuple[osv.Reference, ...] = ()
    database_specific: dict[str, Any] | None = None
    affected: tuple[AffectedPackage, ...] = ()


_STRINGS: Final = msgspec.json.Decoder(tuple[str, ...])
_SEVERITY: Final = msgspec.json.Decoder(tuple[osv.Severity, ...])
_REFERENCES: Final = msgspec.json.Decoder(tuple[osv.Reference, ...])
_RANGES: Final = msgspec.json.Decoder(tuple[osv.Range, ...])
_ANY: Final = msgspec.json.Decoder()

_QUERY: Final = """
SELECT a.id, a.modified, a.published, a.aliases, a.upstream, a.summary, a.details,
       a.severity, a."references", a.database_specific,
       f.purl, f.ranges, f.versions, f.ecosystem_specific, f.database_specific,
       a.related, a.sid
FROM affected AS f JOIN advisories AS a ON a.sid = f.sid AND a.id = f.advisory_id
WHERE f.ecosystem = ? AND f.package = ?
ORDER BY a.id, a.modified DESC, a.sid, f.rowid
"""
_CHUNK: Final = 500  # ids per IN (...) lookup, under SQLite's parameter limit


class KevEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A CVE in CISA's Known Exploited Vulnerabilities catalog."""

    cve: str
    date_added: str = ""
    due_date: str = ""
    ransomware: str = ""  # CISA's knownRansomwareCampaignUse: "Known" or "Unknown"
    notes: str = ""


class EpssScore(msgspec.Struct, frozen=True, kw_only=True):
    """A CVE's EPSS probability of exploitation in the next 30 days, and its percentile."""

    cve: str
    epss: float
    percentile: float


def _obj(text: str | None) -> dict[str, Any] | None:
    # Free-form by the schema; anything but an object is ignored rather than trusted.
    value = _ANY.decode(text) if text else None
    return value if isinstance(value, dict) else None


class VulnDB:
    """A read-only handle on the advisory database. Safe to share between threads."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], list[Advisory]] = {}
        self._ecosystems: dict[str, bool] = {}
        self._has_ratings: bool | None = None

    @classmethod
    def open(cls, path: Path) -> VulnDB:
        """Open ``path`` read-only; ``VulnDBError`` if it is missing, corrupt or from another schema."""
        if not path.is_file():
            raise VulnDBError(f"no advisory database at {path}; run `assay db update`")
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.Error as exc:
            raise VulnDBError(
                f"advisory database {path} is unreadable ({exc}); run `assay db update`"
            ) from exc
        if row is None or row[0] != SCHEMA_VERSION:
            conn.close()
            found = row[0] if row else "none"
            raise VulnDBError(
                f"advisory database {path} has schema version {found}, this Assay reads "
                f"{SCHEMA_VERSION}; run `assay db update`"
            )
        return cls(conn, path)

    def close(self) -> None:
        """Release the connection."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> VulnDB:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _rows(self, sql: str, params: tuple[str, ...] = ()) -> list[Any]:
        try:
            with self._lock:
                return self._conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise VulnDBError(f"advisory database {self.path} query failed: {exc}") from exc

    def meta(self) -> dict[str, str]:
        """The ``meta`` table: schema_version, built_at (UTC RFC 3339), sources (JSON), counts."""
        return {str(k): str(v) for k, v in self._rows("SELECT key, value FROM meta")}

    def has_ecosystem(self, ecosystem: str) -> bool:
        """Whether any advisory names a package in ``ecosystem`` (e.g. ``"Debian:12"``)."""
        known = self._ecosystems.get(ecosystem)
        if known is None:
            known = bool(self._rows("SELECT 1 FROM affected WHERE ecosystem = ? LIMIT 1", (ecosystem,)))
            self._ecosystems[ecosystem] = known
        return known

    def advisories_for(self, ecosystem: str, package: str) -> list[Advisory]:
        """Every advisory with an ``affected`` entry for ``package`` in ``ecosystem``, by id."""
        key = (ecosystem, package)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        out: list[Advisory] = []
        chosen: dict[str, int] = {}  # id -> the source whose copy (newest modified) is used
        try:
            for row in self._rows(_QUERY, key):
                if chosen.setdefault(row[0], row[16]) != row[16]:
                    continue
                entry = AffectedPackage(
                    ecosystem=ecosystem,
                    package=package,
                    purl=row[10] or "",
                    ranges=_RANGES.decode(row[11]),
                    versions=_STRINGS.decode(row[12]),
                    ecosystem_specific=_obj(row[13]),
                    database_specific=_obj(row[14]),
                )
                if out and out[-1].id == row[0]:
                    out[-1] = msgspec.structs.replace(out[-1], affected=(*out[-1].affected, entry))
                    continue
                out.append(
                    Advisory(
                        id=row[0],
                        modified=row[1],
                        published=row[2],
                        aliases=_STRINGS.decode(row[3]),
                        upstream=_STRINGS.decode(row[4]),
                        related=_STRINGS.decode(row[15]),
                        summary=row[5],
                        details=row[6],
                        severity=_SEVERITY.decode(row[7]),
                        references=_REFERENCES.decode(row[8]),
                        database_specific=_obj(row[9]),
                        affected=(entry,),
                    )
                )
        except msgspec.MsgspecError as exc:
            raise VulnDBError(f"advisory database {self.path} holds a corrupt row: {exc}") from exc
        self._cache[key] = out
        return out

    def _lookup(self, sql: str, ids: Iterable[str]) -> list[Any]:
        wanted = sorted({i.strip().upper() for i in ids if i.strip().upper().startswith("CVE-")})
        rows: list[Any] = []
        for start in range(0, len(wanted), _CHUNK):
            chunk = tuple(wanted[start : start + _CHUNK])
            rows += self._rows(sql.format(marks=",".join("?" * len(chunk))), chunk)
        return rows

    def known_exploited(self, cve_ids: Iterable[str]) -> dict[str, KevEntry]:
        """The ids among ``cve_ids`` (any ids; non-CVE ones are ignored) that are in the KEV catalog."""
        sql = "SELECT cve, date_added, due_date, ransomware, notes FROM kev WHERE cve IN ({marks})"
        return {
            r[0]: KevEntry(cve=r[0], date_added=r[1], due_date=r[2], ransomware=r[3], notes=r[4])
            for r in self._lookup(sql, cve_ids)
        }

    def epss(self, cve_ids: Iterable[str]) -> dict[str, EpssScore]:
        """The EPSS scores of those of ``cve_ids`` that have one."""
        sql = "SELECT cve, epss, percentile FROM epss WHERE cve IN ({marks})"
        return {
            r[0]: EpssScore(cve=r[0], epss=float(r[1]), percentile=float(r[2]))
            for r in self._lookup(sql, cve_ids)
        }

    def cve_ratings(self, cve_ids: Iterable[str]) -> dict[str, list[Rating]]:
        """The ratings of those of ``cve_ids`` that have any: the CVE records' (``--cvss``) and
        the stored advisories' (none in a database built before these tables existed)."""
        if self._has_ratings is None:
            sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cve_ratings'"
            self._has_ratings = bool(self._rows(sql))
        if not self._has_ratings:
            return {}
        ids, out = tuple(cve_ids), dict[str, list[Rating]]()
        for table in ("cve_ratings", "advisory_ratings"):
            sql = f"SELECT cve, provider, kind, severity, score, vector FROM {table} WHERE cve IN ({{marks}})"
            for r in self._lookup(sql, ids):
                found = Rating(
                    cve=r[0], provider=r[1], kind=r[2], severity=r[3], score=float(r[4]), vector=r[5]
                )
                out.setdefault(r[0], []).append(found)
        return out

    def sources(self) -> list[SourceState]:
        """Every source the database was built from, with its fingerprint and counts."""
        try:
            with self._lock:
                return list(read_sources(self._conn).values())
        except sqlite3.Error as exc:
            raise VulnDBError(f"advisory database {self.path} query failed: {exc}") from exc
