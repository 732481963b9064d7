"""FIRST's EPSS scores (https://www.first.org/epss/data_stats), in the published CSV format.

The daily file (plain or gzip-compressed) starts with a comment line such as
``#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z``, then the header
``cve,epss,percentile``, then one row per CVE. ``read`` streams the rows from a file with
constant memory; a bad row becomes a problem and is skipped.
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import msgspec

_CVE: Final = re.compile(r"^CVE-\d{4}-\d{4,}$")
MAX_PROBLEMS: Final = 100


class EpssFormatError(ValueError):
    """The file is not an EPSS CSV."""


class Header(msgspec.Struct, kw_only=True):
    """What the leading comment line says, and the bad rows met so far."""

    model_version: str = ""
    score_date: str = ""
    problems: list[str] = []


def _lines(path: Path) -> Iterator[str]:
    with path.open("rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw) if magic == b"\x1f\x8b" else raw
        with io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline="") as text:
            yield from text


def read(path: Path, header: Header) -> Iterator[tuple[str, float, float]]:
    """Each (cve, epss, percentile) row of the EPSS CSV at ``path``; fills ``header`` as it goes.

    Raises ``EpssFormatError`` when the column header is not ``cve,epss,percentile``, and
    ``OSError`` / ``EOFError`` / ``gzip.BadGzipFile`` when the file cannot be read.
    """
    columns_seen = False
    for number, line in enumerate(_lines(path), start=1):
        text = line.strip()
        if not text:
            continue
        if text.startswith("#"):
            for part in text[1:].split(","):
                key, _, value = part.partition(":")
                if key.strip() == "model_version":
                    header.model_version = value.strip()
                elif key.strip() == "score_date":
                    header.score_date = value.strip()
            continue
        if not columns_seen:
            if [c.strip().lower() for c in text.split(",")][:3] != ["cve", "epss", "percentile"]:
                raise EpssFormatError(f"{path}: line {number}: expected header cve,epss,percentile")
            columns_seen = True
            continue
        parts = [p.strip() for p in text.split(",")]
        try:
            cve, score, percentile = parts[0].upper(), float(parts[1]), float(parts[2])
        except (IndexError, ValueError):
            _problem(header, f"{path}: line {number}: not a cve,epss,percentile row")
            continue
        if not _CVE.match(cve) or not (0.0 <= score <= 1.0 and 0.0 <= percentile <= 1.0):
            _problem(header, f"{path}: line {number}: bad CVE id or a value outside 0..1")
            continue
        yield cve, score, percentile
    if not columns_seen:
        raise EpssFormatError(f"{path}: no cve,epss,percentile header")


def _problem(header: Header, text: str) -> None:
    if len(header.problems) < MAX_PROBLEMS:
        header.problems.append(text)
