"""The ``assay`` command: one entrypoint that reads settings once and hands them down."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

import msgspec

from services.api.cli import add_read_commands, has_filters, run_read_command
from services.cli.formats import FORMATS
from services.cli.registries import add_registries_command
from services.common.config import RegistryConfig, Settings, load_settings
from services.common.errors import ConfigError

SERVICES = ("inventory", "dedupe", "engine", "policy", "api", "node", "updater", "harbor", "admission")


# Trivy's scanner names -> the content analyzers behind them ("vuln" is advisory matching)
SCANNERS: dict[str, tuple[str, ...]] = {
    "vuln": (),
    "secret": ("secrets",),
    "misconfig": ("insecure",),
    "malware": ("malware", "netioc"),
    "license": ("licenses",),
}


def _upper_list(value: str) -> list[str]:
    return [v.strip().upper() for v in value.split(",") if v.strip()]


def _scanner_list(value: str) -> list[str]:
    names = [v.strip().lower() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in SCANNERS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown scanner {', '.join(unknown)} (known: {', '.join(SCANNERS)})"
        )
    return names


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="assay", description="Container image assurance.")
    p.add_argument("--config", help="a JSON settings file (also ASSAY_CONFIG)")
    p.add_argument("--data-dir", help="local state directory (also ASSAY_DATA_DIR)")
    p.add_argument("--db", dest="db_path", help="advisory database file (also ASSAY_DB_PATH)")
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)

    scan = sub.add_parser(
        "scan",
        help="scan one image, archive or directory",
        description="TARGET: oci:DIR[:TAG], docker-archive:FILE, oci-archive:FILE[:TAG], dir:PATH, "
        "sbom:FILE (a CycloneDX or SPDX JSON document, matched without an image), "
        "registry:REF or a bare image reference.",
    )
    scan.add_argument("target")
    scan.add_argument("-f", "--format", default="table", choices=FORMATS)
    scan.add_argument("-o", "--output", help="write the report to a file")
    scan.add_argument(
        "--fail-on",
        choices=("critical", "high", "medium", "low", "unknown"),
        help="exit 1 when a CVE or content-detection finding of this severity or worse is reported "
        "(after suppression)",
    )
    scan.add_argument(
        "--ruleset",
        metavar="FILE",
        help="a ruleset YAML file (thresholds, severity and suppression rules); default: the shipped default",
    )
    scan.add_argument(
        "--ignore-unfixed",
        action="store_true",
        help="suppress vulnerabilities that have no fixed version (not fixed or will not be fixed)",
    )
    scan.add_argument(
        "--ignore-file",
        action="append",
        default=[],
        metavar="PATH",
        help="accepted vulnerabilities: YAML (ignore: [{id, package, expires, reason}]) or "
        ".assayignore lines (ID [PACKAGE] [exp:YYYY-MM-DD] [# reason]); repeatable",
    )
    scan.add_argument(
        "--vex",
        action="append",
        default=[],
        metavar="PATH",
        help="OpenVEX document: not_affected/fixed statements suppress findings; repeatable",
    )
    scan.add_argument("--platform", help="os/arch[/variant] to pick from a multi-platform index")
    scan.add_argument(
        "--no-content",
        action="store_true",
        help="skip the content analyzers (secrets, insecure configuration): packages and CVEs only",
    )
    scan.add_argument(
        "--verify-secrets",
        action="store_true",
        help="ask each found credential's provider whether it works "
        "(network; reports verified/invalid/unknown)",
    )
    scan.add_argument(
        "--severity",
        metavar="LIST",
        type=_upper_list,
        default=[],
        help="show only findings of these severities (comma list: CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN)",
    )
    scan.add_argument(
        "--scanners",
        metavar="LIST",
        type=_scanner_list,
        help=f"what to look for (comma list of {','.join(SCANNERS)}; default: all); "
        "packages are always listed",
    )
    scan.add_argument(
        "--skip-dirs", action="append", default=[], metavar="GLOB", help="leave out what is found under these"
    )
    scan.add_argument(
        "--skip-files", action="append", default=[], metavar="GLOB", help="leave out what is found in these"
    )
    scan.add_argument("--timeout", type=float, metavar="SECONDS", help="give up on the scan after this long")
    scan.add_argument(
        "--exit-code",
        type=int,
        metavar="N",
        help="exit N when findings remain after --severity/--fail-on and suppression "
        "(default with --fail-on: 1)",
    )
    scan.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST",
        help="allow plain HTTP to this registry",
    )

    db = sub.add_parser("db", help="the advisory database")
    dbsub = db.add_subparsers(dest="db_command", required=True)
    upd = dbsub.add_parser("update", help="ingest OSV advisories")
    upd.add_argument("--source", help="DIR, ZIP or URL (default ASSAY_DB_SOURCE or the public OSV export)")
    upd.add_argument(
        "--ecosystems",
        action="append",
        metavar="LIST",
        help="comma-separated OSV ecosystems to ingest (default: all of Debian, Ubuntu, Alpine, Red Hat, "
        "Rocky Linux, AlmaLinux, PyPI, npm, Maven, RubyGems, NuGet, Go, crates.io, Packagist)",
    )
    upd.add_argument(
        "--kev",
        metavar="PATH|URL",
        help="CISA KEV catalog JSON ('none' to skip; default: CISA's catalog when --source is a URL)",
    )
    upd.add_argument("--epss", metavar="PATH|URL", help="FIRST EPSS scores CSV (plain or .gz)")
    upd.add_argument(
        "--cvss", metavar="PATH|URL", help="CVE JSON 5 records (a cvelistV5 tree or zip): CVSS by CVE id"
    )
    upd.add_argument("--full", action="store_true", help="rebuild from scratch instead of updating")
    st = dbsub.add_parser("status", help="show build time, sources and schema version")
    st.add_argument("--json", action="store_true", help="print metadata and sources as JSON")

    feeds = sub.add_parser("feeds", help="threat feeds of malicious URLs and IPs")
    feedsub = feeds.add_subparsers(dest="feeds_command", required=True)
    fupd = feedsub.add_parser("update", help="load feeds (one entry a line, CIDR lists, URLhaus CSV)")
    fupd.add_argument(
        "--source", action="append", required=True, help="a feed file or URL (repeat for several)"
    )

    svc = sub.add_parser("service", help="run one service (" + ", ".join(SERVICES) + ")")
    svc.add_argument("name", choices=SERVICES)
    svc.add_argument("--once", action="store_true", help="inventory, updater: one pass and exit")

    up = sub.add_parser("up", help="start the whole pipeline on this machine")
    up.add_argument(
        "--until-idle",
        action="store_true",
        help="crawl once, wait until every image is scanned, print findings, stop",
    )
    up.add_argument("--idle-timeout", type=float, default=600.0)

    add_read_commands(sub)  # images, findings
    from services.cli.rulesets import add_rulesets_command

    add_rulesets_command(sub)  # rulesets list|show|assign|unassign
    rem = sub.add_parser("rematch", help="match stored inventories against the current advisory database")
    rem.add_argument("--digest", help="only this image digest")
    add_registries_command(sub)  # registries link|unlink|list
    from services.cli.rescan import add_rescan_command

    add_rescan_command(sub)  # rescan DIGEST...|--all
    return p


def _settings(args: argparse.Namespace) -> Settings:
    """Settings from file and environment, with the command line's few overrides on top."""
    base = load_settings(config_file=args.config, data_dir=args.data_dir, db_path=args.db_path)
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
        changes["content_analyzers"] = []
    elif getattr(args, "scanners", None) is not None:
        chosen = {a for name in args.scanners for a in SCANNERS[name]}
        changes["content_analyzers"] = [a for a in base.content_analyzers if a in chosen]
    if getattr(args, "verify_secrets", False):
        changes["secret_verify"] = True
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
    if args.command == "scan":
        from services.cli.scan import ScanOptions, run_scan
        from services.cli.scan_filter import ShowFilter

        return asyncio.run(
            run_scan(
                settings,
                args.target,
                ScanOptions(
                    fmt=args.format,
                    output=args.output,
                    fail_on=args.fail_on,
                    exit_code=args.exit_code,
                    ignore_unfixed=args.ignore_unfixed,
                    ignore_files=args.ignore_file,
                    vex_files=args.vex,
                    ruleset_file=args.ruleset,
                    show=ShowFilter(
                        severities=args.severity, skip_dirs=args.skip_dirs, skip_files=args.skip_files
                    ),
                    timeout_s=args.timeout,
                    match_advisories=args.scanners is None or "vuln" in args.scanners,
                ),
            )
        )
    if args.command == "db":
        from services.cli.db import run_status, run_update

        if args.db_command == "update":
            return asyncio.run(
                run_update(
                    settings,
                    args.source,
                    ecosystems=args.ecosystems,
                    kev_source=args.kev,
                    epss_source=args.epss,
                    cvss_source=args.cvss,
                    full=args.full,
                )
            )
        return run_status(settings, as_json=args.json)
    if args.command == "feeds":
        from services.cli.feeds import run_feeds_update

        return asyncio.run(run_feeds_update(settings, args.source))
    if args.command == "service":
        from services.cli.service import run_named_service

        return asyncio.run(run_named_service(settings, args.name, once=args.once))
    if args.command == "registries":
        from services.cli.registries import run_registries

        return asyncio.run(run_registries(settings, args))
    if args.command == "up":
        from services.cli.up import run_up

        return run_up(settings, until_idle=args.until_idle, idle_timeout=args.idle_timeout)
    if args.command == "rulesets":
        from services.cli.rulesets import run_rulesets

        return asyncio.run(run_rulesets(settings, args))
    if args.command == "rematch":
        from services.cli.rematch import run_rematch

        return asyncio.run(run_rematch(settings, digest=args.digest))
    if args.command == "rescan":
        from services.cli.rescan import run_rescan

        return asyncio.run(run_rescan(settings, args))
    if args.command == "images" or (args.command == "findings" and has_filters(args)):
        return run_read_command(settings, args)
    if args.command == "findings":
        from services.cli.service import print_findings

        return asyncio.run(print_findings(settings))
    return 2


if __name__ == "__main__":
    sys.exit(main())
