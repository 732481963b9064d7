"""The explicit registry of catalogers: every entry must have parser tests with fixtures."""

from __future__ import annotations

from services.engine.catalogers.alpine import parse_apk_db
from services.engine.catalogers.debian import parse_dpkg_status
from services.engine.catalogers.interface import Cataloger
from services.engine.catalogers.python import parse_metadata

CATALOGERS: tuple[Cataloger, ...] = (
    parse_dpkg_status.CATALOGER,
    parse_apk_db.CATALOGER,
    parse_metadata.CATALOGER,
)


def select(tags: tuple[str, ...] = ("image",)) -> tuple[Cataloger, ...]:
    """Catalogers carrying every one of ``tags``."""
    return tuple(c for c in CATALOGERS if all(t in c.tags for t in tags))
