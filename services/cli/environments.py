"""``assay environments add|list|remove``: clusters inventory watches, stored in PostgreSQL.

``add cluster NAME --kubeconfig FILE`` stores the kubeconfig's contents (the command runs on an
operator's machine, inventory in its cluster: they share no files) with an optional context,
organisational unit and namespaces; inventory starts watching ``cluster:NAME`` within
``ASSAY_ENVIRONMENTS_POLL_S`` and stops when it is removed, without a restart
(``services/inventory/environments.py``). ``add cluster NAME --agent`` registers a cluster that runs
its own inventory (the chart's agent mode) and prints the Kafka user and ACL it needs, its Secrets
and the ``helm install`` command (``services/inventory/onboarding.py``). Adding a name again replaces it.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from services.common.errors import AssayError, ConfigError
from services.common.store.postgres import Store
from services.inventory.onboarding import agent_instructions, check_kubeconfig, node_public_key
from services.inventory.store import Environment, Environments

if TYPE_CHECKING:
    from services.settings import Settings

__all__ = [
    "add_environments_command",
    "agent_instructions",
    "read_kubeconfig",
    "run_environments",
]


def add_environments_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``environments`` and its ``add``/``list``/``remove`` subcommands."""
    env = sub.add_parser("environments", help="clusters inventory watches besides ASSAY_CLUSTERS")
    envsub = env.add_subparsers(dest="environments_command", required=True)
    add = envsub.add_parser(
        "add", help="watch a cluster, or register an agent's (replaces one of the same name)"
    )
    add.add_argument("kind", choices=["cluster"])
    add.add_argument("name", help="the environment is cluster:NAME")
    how = add.add_mutually_exclusive_group(required=True)
    how.add_argument("--kubeconfig", help="a kubeconfig file; its contents are stored, inventory watches it")
    how.add_argument("--agent", action="store_true", help="the cluster runs its own inventory (agent mode)")
    add.add_argument(
        "--bootstrap", default="", help="with --agent: the Kafka the agent reaches (default: ours)"
    )
    add.add_argument(
        "--auth",
        choices=["scram", "mtls"],
        default="scram",
        help="with --agent: a SCRAM-SHA-512 Kafka user (default) or a client certificate",
    )
    add.add_argument("--context", default="", help="a context of that kubeconfig (default: its current one)")
    add.add_argument("--ou", default="", help="the organisational unit owning the cluster's workloads")
    add.add_argument("--namespace", action="append", default=[], help="watch only this namespace (repeat)")
    remove = envsub.add_parser("remove", help="stop watching a cluster")
    remove.add_argument("kind", choices=["cluster"])
    remove.add_argument("name")
    envsub.add_parser("list", help="every stored environment (never the kubeconfigs)")


def read_kubeconfig(file: str, context: str) -> str:
    """The contents of ``file``, checked to be a kubeconfig with the context wanted."""
    path = Path(file)
    try:
        text = path.read_text()
        check_kubeconfig(text, context)
    except OSError as exc:
        raise ConfigError(f"--kubeconfig {path}: {exc.strerror or exc}") from exc
    except ConfigError as exc:
        raise ConfigError(f"--kubeconfig {path}: {exc}") from exc
    return text


async def _add(
    environments: Environments,
    args: argparse.Namespace,
    kubeconfig: str,
    bootstrap: str,
    node_public_key: str = "",
) -> None:
    env = Environment(
        kind=args.kind,
        name=args.name,
        mode="agent" if args.agent else "watch",
        kubeconfig=kubeconfig,
        context=args.context,
        ou=args.ou,
        namespaces=args.namespace,
    )
    created = await environments.put(env)
    print(f"{'added' if created else 'replaced'}: {env.environment}{' (agent)' if args.agent else ''}")
    if args.agent:
        password = secrets.token_urlsafe(24)
        print("\n".join(agent_instructions(env, bootstrap, password, args.auth, node_public_key)))


def _line(env: Environment) -> str:
    scope = ",".join(env.namespaces) or "all namespaces"
    if env.mode == "agent":
        return f"{env.environment}\tou={env.ou or '-'}\tagent"
    return f"{env.environment}\tou={env.ou or '-'}\tcontext={env.context or '(current)'}\t{scope}"


async def run_environments(settings: Settings, args: argparse.Namespace) -> int:
    """Run one ``environments`` subcommand; 0 on success, 1 when there is nothing to remove, 2 on errors."""
    try:
        if not settings.pg.dsn:
            raise ConfigError("ASSAY_PG_DSN is not set")
        kubeconfig = ""
        if args.environments_command == "add" and not args.agent:  # checked before anything is stored
            kubeconfig = read_kubeconfig(args.kubeconfig, args.context)
        store = await Store.connect(settings.pg.dsn, max_size=2)
        try:
            environments = Environments(store.pool)
            if args.environments_command == "add":
                bootstrap = args.bootstrap or settings.kafka.bootstrap
                await _add(environments, args, kubeconfig, bootstrap, node_public_key(settings.registries))
            elif args.environments_command == "remove":
                if not await environments.remove(args.kind, args.name):
                    print(f"assay environments: no environment {args.kind}:{args.name}", file=sys.stderr)
                    return 1
                print(f"removed: {args.kind}:{args.name}")
            else:
                for env in await environments.all():
                    print(_line(env))
        finally:
            await store.close()
    except AssayError as exc:
        print(f"assay environments: error: {exc}", file=sys.stderr)
        return 2
    return 0
