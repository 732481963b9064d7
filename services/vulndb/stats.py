"""What ``update_db`` reports: per-source and overall counts, and the records it could not read."""

from __future__ import annotations

from typing import Final

import msgspec

MAX_REPORTED_ERRORS: Final = 1000


class IngestError(msgspec.Struct, frozen=True):
    """A record that could not be ingested: where it was and why."""

    file: str
    reason: str


class SourceStats(msgspec.Struct, frozen=True, kw_only=True):
    """What one source contributed to this update.

    ``status``: "ok" (read), "unchanged" (same fingerprint or HTTP 304: not read), "missing"
    (HTTP 404 / folder absent) or "removed" (no longer part of the update: its data went).
    ``advisories`` is how many advisories of this source the database now holds.
    """

    location: str
    ecosystem: str = ""
    status: str = "ok"
    records: int = 0
    advisories: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    bytes: int = 0


class UpdateStats(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of ``update_db``.

    ``records`` counts documents read from changed sources; each is ``added``, ``updated``
    or ``unchanged``, or else ``withdrawn``, a within-source duplicate, ``skipped`` (no
    affected package in the selected ecosystems) or an error. ``duplicates`` also counts
    copies of one id kept by several sources. ``advisories`` / ``affected`` / ``kev`` /
    ``epss`` are the totals the database holds afterwards. ``changed`` is False when every
    source was unchanged and the database file was left as it was.
    """

    db_path: str
    changed: bool = True
    records: int = 0
    advisories: int = 0
    affected: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    withdrawn: int = 0
    duplicates: int = 0
    skipped: int = 0
    error_count: int = 0
    errors: list[IngestError] = []
    missing: list[str] = []  # ecosystems the source does not have
    sources: list[SourceStats] = []
    kev: int = 0
    epss: int = 0
    seconds: float = 0.0


class Tally:
    """Mutable counters behind ``UpdateStats`` (kept off the public frozen type)."""

    def __init__(self) -> None:
        self.records = self.added = self.updated = self.unchanged = self.removed = 0
        self.withdrawn = self.duplicates = self.skipped = self.error_count = 0
        self.errors: list[IngestError] = []

    def error(self, file: str, reason: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(IngestError(file, reason))
