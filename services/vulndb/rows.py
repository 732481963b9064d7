"""The ``advisories`` and ``affected`` rows of one OSV record, as ``store`` writes them.

Free-form OSV fields are stored as JSON text; an ``affected`` entry without a package, or
in an ecosystem the update does not keep, gives no row.
"""

from __future__ import annotations

from collections.abc import Callable

from services.vulndb import osv

AdvisoryRow = tuple[int, str, str, str, str, str, str, str, str, str, str, str | None]
AffectedRow = tuple[int, str, str, str, str | None, str, str, str | None, str | None]


def _json(value: object) -> str:
    return osv.ENCODER.encode(value).decode()


def to_rows(
    sid: int, record: osv.Record, keep: Callable[[str], bool]
) -> tuple[AdvisoryRow, list[AffectedRow]]:
    """The database rows of one record; affected entries without a package or outside ``keep`` drop out."""
    affected: list[AffectedRow] = []
    for entry in record.affected or ():
        pkg = entry.package
        if pkg is None or not pkg.ecosystem or not pkg.name or not keep(pkg.ecosystem):
            continue
        affected.append(
            (
                sid,
                record.id,
                pkg.ecosystem,
                pkg.name,
                pkg.purl,
                _json(entry.ranges),
                _json(entry.versions),
                osv.raw_json(entry.ecosystem_specific),
                osv.raw_json(entry.database_specific),
            )
        )
    advisory: AdvisoryRow = (
        sid,
        record.id,
        record.modified,
        record.published,
        record.summary,
        record.details,
        _json(record.aliases or ()),
        _json(record.upstream or ()),
        _json(record.related or ()),
        _json(record.severity or ()),
        _json(record.references or ()),
        osv.raw_json(record.database_specific),
    )
    return advisory, affected
