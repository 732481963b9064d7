"""``assay registries link|unlink|list``: registry <-> cluster links, on PostgreSQL directly.

A registry's images are scanned by the engines of the clusters it is linked to
(``engine_site``); a registry never loses its last link (``services/common/store/links.py``).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from services.common.errors import AssayError, ConfigError
from services.common.lifespan import open_store
from services.common.store import links

if TYPE_CHECKING:
    from services.settings import Settings

__all__ = ["add_registries_command", "run_registries"]


def add_registries_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``registries`` and its ``link``/``unlink``/``list`` subcommands."""
    reg = sub.add_parser("registries", help="link registries to the clusters whose engines scan them")
    regsub = reg.add_subparsers(dest="registries_command", required=True)
    for name, text in (
        ("link", "let a cluster's engines scan a registry's images"),
        ("unlink", "remove a link (never the registry's last one)"),
    ):
        cmd = regsub.add_parser(name, help=text)
        cmd.add_argument("registry", help="registry host (or registry:HOST)")
        cmd.add_argument("cluster", help="cluster name (or cluster:NAME)")
    regsub.add_parser("list", help="every known registry with its linked clusters")


async def run_registries(settings: Settings, args: argparse.Namespace) -> int:
    """Run one ``registries`` subcommand; 0 on success, 1 when refused, 2 on errors."""
    try:
        if not settings.pg.dsn:
            raise ConfigError("ASSAY_PG_DSN is not set")
        async with open_store(settings.pg) as store:
            if args.registries_command == "link":
                created = await links.link(store, args.registry, args.cluster)
                host, cluster = links.registry_host(args.registry), links.cluster_name(args.cluster)
                print(f"{'linked' if created else 'already linked'}: {host} -> {cluster}")
            elif args.registries_command == "unlink":
                await links.unlink(store, args.registry, args.cluster)
                host, cluster = links.registry_host(args.registry), links.cluster_name(args.cluster)
                print(f"unlinked: {host} -> {cluster}")
            else:
                for registry, clusters in (await links.registries(store)).items():
                    print(f"{registry}\t{', '.join(clusters) if clusters else '(any engine)'}")
    except links.LinkError as exc:
        print(f"assay registries: {exc}", file=sys.stderr)
        return 1
    except AssayError as exc:
        print(f"assay registries: error: {exc}", file=sys.stderr)
        return 2
    return 0
