"""The InsecureCode check catalog: ids, titles, severities and rationales read from ``checks.toml``."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import msgspec

from schemas.vocabulary import Severity
from services.common.errors import ConfigError

DEFAULT_CHECKS = Path(__file__).with_name("checks.toml")


class Check(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One check as a reader sees it; the logic is the function of the same id in ``checks.py``."""

    id: str
    title: str
    severity: Severity
    rationale: str
    cis: str = ""  # CIS Docker Benchmark v1.6.0 recommendation, "" where none applies


class Catalog(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole checks file."""

    version: str
    check: list[Check]
    temp_dirs: list[str] = []

    def by_id(self) -> dict[str, Check]:
        return {c.id: c for c in self.check}


def load_catalog(path: Path | None = None) -> tuple[Catalog, str]:
    """The catalog and a hash of its file (part of the per-layer cache key)."""
    path = path or DEFAULT_CHECKS
    try:
        source = path.read_bytes()
        catalog = msgspec.convert(tomllib.loads(source.decode()), Catalog)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, msgspec.ValidationError) as exc:
        raise ConfigError(f"insecure-content checks {path}: {exc}") from exc
    return catalog, hashlib.sha256(source).hexdigest()[:16]


__all__ = ["DEFAULT_CHECKS", "Catalog", "Check", "load_catalog"]
