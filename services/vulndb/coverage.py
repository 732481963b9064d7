"""Coverage gaps: what a scan could not check, as data, so a clean report is never a silent zero.

A gap is raised when the image's distribution is unknown, unsupported or past its end of
security support (``distro_eol.json`` beside this module, a small dated table), or when the inventory
holds packages of an ecosystem the advisory database has no records for. The matcher returns
the gaps as ``schemas.records.CoverageGap`` records and the engine publishes them on
``ScanCompleted.gaps``; each also becomes a report note ending in a marker
(``[coverage:KIND:SUBJECT]``), which ``gaps_from_notes`` reads back for events from engines that
predate the ``gaps`` field. The policy turns each gap into a ``Coverage`` finding with the id
``coverage:KIND:SUBJECT``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Final

import msgspec

from schemas.records import CoverageGap as CoverageGap  # re-exported: the matcher's gaps
from schemas.records import Distro

NO_DATABASE_NOTE: Final = "no advisory database loaded"  # the engine's note when matching is skipped
_MARKER: Final = re.compile(r"\s*\[coverage:(?P<kind>[a-z-]+):(?P<subject>[^\]]+)\]$")
_MAJOR_MINOR: Final = re.compile(r"^(\d+)(?:\.(\d+))?")
_BY_MINOR: Final = frozenset({"ubuntu", "alpine"})  # releases named major.minor


def no_advisories(ecosystem: str, package_type: str) -> CoverageGap:
    """The inventory holds ``package_type`` packages but the database has no ``ecosystem`` records."""
    return CoverageGap(
        kind="no-advisories",
        subject=ecosystem,
        message=f"no advisories for {ecosystem} in the database: {package_type} packages were not checked",
        severity="LOW" if ecosystem in _LANGUAGE_ECOSYSTEMS else "MEDIUM",
    )


def unknown_distro(package_type: str) -> CoverageGap:
    """OS packages on an image whose distribution was not recognised."""
    return CoverageGap(
        kind="unknown-distro",
        subject=package_type,
        message=f"{package_type} packages not matched: the image's distribution is unknown",
    )


def unsupported_distro(package_type: str, distro: Distro, *, reason: str = "") -> CoverageGap:
    """OS packages of a distribution (or release) Assay has no advisory source for."""
    what = f"{distro.id} {distro.version_id}".strip()
    why = f" ({reason}: {distro.version_id!r})" if reason else ""
    return CoverageGap(
        kind="unsupported-distro",
        subject=f"{distro.id}-{distro.version_id}" if distro.version_id else distro.id,
        message=f"{package_type} packages on {what} are not matched{why}",
    )


def no_database() -> CoverageGap:
    """Matching was skipped: no advisory database."""
    return CoverageGap(
        kind="no-database",
        subject="all",
        message="no advisory database loaded: no package was checked for vulnerabilities",
    )


def gaps_from_notes(notes: Iterable[str]) -> list[CoverageGap]:
    """The gaps carried by report notes (see ``CoverageGap.note``), in order, without repeats."""
    out: dict[str, CoverageGap] = {}
    for note in notes:
        if note.startswith(NO_DATABASE_NOTE):
            gap = no_database()
            out.setdefault(gap.id, gap)
            continue
        m = _MARKER.search(note)
        if m is None:
            continue
        kind, subject = m.group("kind"), m.group("subject")
        severity = "LOW" if kind == "no-advisories" and subject in _LANGUAGE_ECOSYSTEMS else "MEDIUM"
        try:
            gap = msgspec.convert(
                {"kind": kind, "subject": subject, "message": note[: m.start()], "severity": severity},
                CoverageGap,
            )
        except msgspec.ValidationError:  # a marker of a kind this version does not know: not a gap
            continue
        out.setdefault(gap.id, gap)
    return list(out.values())


_LANGUAGE_ECOSYSTEMS: Final = frozenset(
    {"PyPI", "npm", "Maven", "RubyGems", "NuGet", "Go", "crates.io", "Packagist"}
)


@cache
def eol_table() -> Mapping[str, Mapping[str, str]]:
    """``{distro id: {release: end of security support (YYYY-MM-DD)}}`` from the packaged data file."""
    text = resources.files("services.vulndb").joinpath("distro_eol.json").read_text()
    data = json.loads(text)
    return {k: v for k, v in data.items() if isinstance(v, dict)}


def _release(distro: Distro) -> str:
    m = _MAJOR_MINOR.match(distro.version_id)
    if not m:
        return ""
    if distro.id in _BY_MINOR:
        return f"{m.group(1)}.{m.group(2)}" if m.group(2) is not None else ""
    return m.group(1)


def distro_gap(distro: Distro | None, today: dt.date) -> CoverageGap | None:
    """An ``eol-distro`` gap when ``distro``'s release is past its end of security support.

    Also a gap (``unsupported-distro``) for a release of a known distribution that the
    table does not list (too new or too old to say). None for a supported release, for
    distributions outside the table (the matcher reports those) and for no distribution.
    """
    if distro is None:
        return None
    releases = eol_table().get(distro.id)
    if releases is None:
        return None
    release = _release(distro)
    subject = f"{distro.id}-{release or distro.version_id or 'unknown'}"
    end = releases.get(release)
    if end is None:
        return CoverageGap(
            kind="unsupported-distro",
            subject=subject,
            message=f"{distro.id} release {distro.version_id or '(none)'} is not in Assay's support table: "
            "whether it still gets security fixes is unknown",
            severity="LOW",
        )
    if dt.date.fromisoformat(end) < today:
        return CoverageGap(
            kind="eol-distro",
            subject=subject,
            message=f"{distro.pretty_name or subject} reached the end of security support on {end}: "
            "vulnerabilities found after that date are not fixed or not listed",
        )
    return None


def scan_gaps(
    notes: Iterable[str], distro: Distro | None, today: dt.date, *, gaps: Iterable[CoverageGap] = ()
) -> list[CoverageGap]:
    """Every gap of one scan: ``gaps`` (``ScanCompleted.gaps``; when there are none, those its
    ``notes`` carry, as an older engine reported them), then the distribution's support status."""
    gaps = list({g.id: g for g in gaps}.values()) or gaps_from_notes(notes)
    eol = distro_gap(distro, today)
    if eol is not None and eol.id not in {g.id for g in gaps}:
        gaps.append(eol)
    return gaps
