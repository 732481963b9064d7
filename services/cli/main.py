"""The ``assay`` command: one entrypoint that reads settings once and hands them down."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from services.api.auth.cli import add_tokens_command, run_tokens
from services.api.cli import add_read_commands
from services.cli import commands
from services.cli.commands import SCANNERS
from services.cli.environments import add_environments_command, run_environments
from services.cli.registries import add_registries_command, run_registries
from services.cli.rescan import add_rescan_command, run_rescan
from services.cli.rulesets import add_rulesets_command, run_rulesets
from services.common.config import RegistryConfig
from services.common.errors import ConfigError
from services.common.progress import wants_progress
from services.settings import Settings, load_settings

Run = Callable[["Settings", argparse.Namespace], int]


def _async(run: Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]) -> Run:
    """A command whose runner is a coroutine function."""
    return lambda settings, args: asyncio.run(run(settings, args))


def _tokens(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(run_tokens(settings.pg.dsn, args))


@dataclass(frozen=True)
class Command:
    """One ``assay`` command: the names ``add`` registers on the subparsers, and how it runs."""

    names: tuple[str, ...]
    add: Callable[[Any], None]
    run: Run


# every command, registered one way: ``add`` builds its parser, ``run(settings, args)`` runs it
COMMANDS: tuple[Command, ...] = (
    Command(("scan",), commands.add_scan, commands.run_scan),
    Command(("db",), commands.add_db, commands.run_db),
    Command(("feeds",), commands.add_feeds, commands.run_feeds),
    Command(("service",), commands.add_service, commands.run_service),
    Command(("up",), commands.add_up, commands.run_up),
    Command(("images", "findings"), add_read_commands, commands.run_read),
    Command(("rulesets",), add_rulesets_command, _async(run_rulesets)),
    Command(("rematch",), commands.add_rematch, commands.run_rematch),
    Command(("registries",), add_registries_command, _async(run_registries)),
    Command(("rescan",), add_rescan_command, _async(run_rescan)),
    Command(("environments",), add_environments_command, _async(run_environments)),
    Command(("tokens",), add_tokens_command, _tokens),
)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="assay", description="Container image assurance.")
    p.add_argument("--config", help="a JSON settings file (also ASSAY_CONFIG)")
    p.add_argument("--data-dir", help="local state directory (also ASSAY_DATA_DIR)")
    p.add_argument("--db", dest="db_path", help="advisory database file (also ASSAY_DB_PATH)")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add(sub)
        for name in command.names:
            sub.choices[name].set_defaults(run=command.run)
    return p


def _settings(args: argparse.Namespace) -> Settings:
    """Settings from file and environment, with the command line's few overrides on top."""
    paths = {"data": {"dir": args.data_dir}, "db": {"path": args.db_path}}
    base = load_settings(
        config_file=args.config,
        overrides={k: v for k, v in paths.items() if next(iter(v.values())) is not None},
    )
    changes: dict[str, object] = {}
    insecure = set(getattr(args, "insecure_registry", None) or [])
    if insecure:
        regs = [
            msgspec.structs.replace(r, insecure=True) if r.host in insecure else r for r in base.registries
        ]
        regs += [
            RegistryConfig(host=h, insecure=True, crawl=False)
            for h in sorted(insecure - {r.host for r in regs})
        ]
        changes["registries"] = regs
    if getattr(args, "platform", None):
        changes["platform"] = args.platform
    if getattr(args, "no_content", False):
        changes["content"] = msgspec.structs.replace(base.content, analyzers=[])
    elif getattr(args, "scanners", None) is not None:
        chosen = {a for name in args.scanners for a in SCANNERS[name]}
        analyzers = [a for a in base.content.analyzers if a in chosen]
        changes["content"] = msgspec.structs.replace(base.content, analyzers=analyzers)
    if getattr(args, "verify_secrets", False):
        changes["secret"] = msgspec.structs.replace(base.secret, verify=True)
    return msgspec.structs.replace(base, **changes) if changes else base


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``assay`` command; returns the process exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:  # libraries' own chatter (reconnects, metadata refreshes) only with -v
        for library in ("aiokafka", "kafka", "botocore", "aiobotocore", "asyncio"):
            logging.getLogger(library).setLevel(logging.WARNING)
    try:
        settings = _settings(args)
    except ConfigError as exc:
        print(f"assay: configuration error: {exc}", file=sys.stderr)
        return 2
    args.live_progress = wants_progress(sys.stderr, os.environ)  # bars only for a person at a terminal
    run: Run = args.run
    return run(settings, args)


if __name__ == "__main__":
    sys.exit(main())
