"""``assay rulesets list|show NAME|assign|unassign``: the known rulesets and their assignments.

Rulesets come from the shipped default plus ``rulesets_dir``; assignments live in PostgreSQL
(``ASSAY_PG_DSN``). Precedence for an environment: its own assignment, else its OU's, else
``default``.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Literal

from services.common.errors import AssayError, ConfigError
from services.common.lifespan import open_store
from services.policy.catalog import Rulesets, load_rulesets

if TYPE_CHECKING:
    from services.settings import Settings

__all__ = ["add_rulesets_command", "run_rulesets"]


def add_rulesets_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``assay rulesets``."""
    p = sub.add_parser("rulesets", help="policy rulesets and their assignment to environments or OUs")
    rsub = p.add_subparsers(dest="rulesets_command", required=True)
    rsub.add_parser("list", help="every ruleset and every assignment")
    show = rsub.add_parser("show", help="one ruleset's thresholds and rules")
    show.add_argument("name")
    for verb in ("assign", "unassign"):
        a = rsub.add_parser(verb, help=f"{verb} a ruleset to an environment or an organisational unit")
        target = a.add_mutually_exclusive_group(required=True)
        target.add_argument("--environment", help="e.g. registry:127.0.0.1:5000 or cluster:prod")
        target.add_argument("--ou", help="an organisational unit")
        if verb == "assign":
            a.add_argument("name", help="the ruleset")


def _scope(args: argparse.Namespace) -> tuple[Literal["environment", "ou"], str]:
    return ("environment", args.environment) if args.environment else ("ou", args.ou)


def _show(rulesets: Rulesets, name: str) -> None:
    r = rulesets.require(name)
    print(f"{r.name}  ({r.source})")
    print("thresholds: " + ", ".join(f"{k} >= {v}" for k, v in r.thresholds.items()))
    categories = ", ".join(r.threshold_categories)
    print(f"threshold categories: {categories}; ImageScan severity {r.image_scan_severity}")
    if not r.rules:
        print("rules: none")
    for rule in r.rules:
        conditions = {
            f: getattr(rule.match, f)
            for f in rule.match.__struct_fields__
            if getattr(rule.match, f) is not None
        }
        action = (
            f"suppress ({rule.action.reason})" if rule.action.suppress else f"severity {rule.action.severity}"
        )
        match = ", ".join(f"{k}={v}" for k, v in conditions.items()) or "everything"
        print(f"  {rule.name}: {match} -> {action}")


async def run_rulesets(settings: Settings, args: argparse.Namespace) -> int:
    """Run one ``assay rulesets`` subcommand; the exit code."""
    try:
        rulesets = load_rulesets(settings.rulesets.dir)
        if args.rulesets_command == "show":
            _show(rulesets, args.name)
            return 0
        if not settings.pg.dsn:
            raise ConfigError("ASSAY_PG_DSN is not set (assignments live in PostgreSQL)")
        async with open_store(settings.pg) as store:
            assigned = store.assignments
            if args.rulesets_command == "list":
                for name in rulesets:
                    print(f"{name}  ({rulesets[name].source})")
                assignments = await assigned.all()
                print(f"\n{len(assignments)} assignments (others: default)")
                for a in assignments:
                    known = "" if a.ruleset in rulesets else "  (unknown here: default applies)"
                    print(f"  {a.scope} {a.name} -> {a.ruleset}{known}")
            elif args.rulesets_command == "assign":
                rulesets.require(args.name)
                scope, target = _scope(args)
                await assigned.assign(scope, target, args.name)
                print(f"{scope} {target} -> {args.name}")
            else:
                scope, target = _scope(args)
                if not await assigned.unassign(scope, target):
                    print(f"assay: {scope} {target} had no assignment", file=sys.stderr)
                    return 1
                print(f"{scope} {target} -> default")
    except AssayError as exc:
        print(f"assay: error: {exc}", file=sys.stderr)
        return 2
    return 0
