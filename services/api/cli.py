"""The ``assay images`` and ``assay findings`` subcommands: their arguments and dispatch.

Each filter flag becomes the read API's query parameter of the same name, so the command and
the HTTP API share one set of rules (``services.api.params``). Kept free of heavy imports: the
client (aiohttp, asyncpg) is loaded only when one of these commands runs.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from services.settings import Settings


__all__ = ["add_read_commands", "has_filters", "run_read_command"]

# flag -> (query parameter, help); every flag repeatable except the single-valued ones
_COMMON: Final = {
    "environment": ("environment", "only what was seen in this environment (repeatable)"),
    "ou": ("ou", "only images seen in an environment of this organisational unit (repeatable)"),
}
_IMAGES: Final = {
    **_COMMON,
    "status": ("status", "pending, scanning, scanned, failed or too_large (repeatable)"),
    "repository": ("repository", "only images seen under this repository (repeatable)"),
}
_FINDINGS: Final = {
    **_COMMON,
    "severity": ("severity", "this severity or worse: critical, high, medium, low, unknown"),
    "ruleset": ("ruleset", "only findings of this ruleset (repeatable)"),
    "category": ("category", "CVE, ImageScan, InsecureContent, ... (repeatable)"),
    "image": ("digest", "only findings of this image manifest digest (repeatable)"),
    "package": ("package", "package name, or purl with or without @version (repeatable)"),
    "state": ("state", "lifecycle state: new, changed, unchanged, ... (repeatable)"),
    "query": ("q", "text in the advisory id, title, description, package name, finding id or image"),
}
_SINGLE: Final = frozenset({"severity", "query"})


def _add(parser: argparse.ArgumentParser, flags: dict[str, tuple[str, str]]) -> None:
    parser.add_argument(
        "--api", metavar="URL", help="the read API (e.g. http://127.0.0.1:8080); default: PostgreSQL"
    )
    for flag, (_, text) in flags.items():
        if flag in _SINGLE:
            parser.add_argument(f"--{flag}", help=text)
        else:
            parser.add_argument(f"--{flag}", action="append", default=[], help=text)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def add_read_commands(sub: Any) -> None:
    """Add ``images`` and ``findings`` to the ``assay`` subparsers ``sub``."""
    _add(
        sub.add_parser("images", help="list images with status and environments (read API or PostgreSQL)"),
        _IMAGES,
    )
    _add(
        sub.add_parser(
            "findings",
            help="list findings, filtered (read API with --api, else PostgreSQL: ASSAY_PG_DSN)",
        ),
        _FINDINGS,
    )


def _query(args: argparse.Namespace, flags: dict[str, tuple[str, str]]) -> dict[str, list[str]]:
    query: dict[str, list[str]] = {}
    for flag, (param, _) in flags.items():
        value = getattr(args, flag)
        values = [value] if isinstance(value, str) else list(value or [])
        if values:
            query[param] = values
    return query


def has_filters(args: argparse.Namespace) -> bool:
    """Whether ``assay findings`` was given --api, --json or any filter (else the classic listing)."""
    return bool(args.api or args.json or _query(args, _FINDINGS))


def run_read_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run ``assay images`` or ``assay findings`` as parsed; returns the exit code."""
    from services.api.client import run_findings, run_images

    if args.command == "images":
        return asyncio.run(run_images(settings, args.api, _query(args, _IMAGES), as_json=args.json))
    return asyncio.run(run_findings(settings, args.api, _query(args, _FINDINGS), as_json=args.json))
