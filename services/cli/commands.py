"""The ``assay`` commands defined here (scan, db, feeds, service, up, rematch, findings): for each, a
small function that adds its parser and one that runs it. ``main.py`` lists every command once."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from services.cli.formats import FORMATS
from services.cli.registry import SERVICES

if TYPE_CHECKING:
    from services.settings import Settings

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


def add_scan(sub: Any) -> None:
    """``assay scan TARGET``: what to scan, how to report, what fails the run."""
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
    _add_scan_selection(scan)


def _add_scan_selection(scan: argparse.ArgumentParser) -> None:
    """``assay scan``: which platform and analyzers, what to show, registry access."""
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


def run_scan(settings: Settings, args: argparse.Namespace) -> int:
    from services.cli.scan import ScanOptions
    from services.cli.scan import run_scan as scan
    from services.cli.scan_filter import ShowFilter

    show = ShowFilter(severities=args.severity, skip_dirs=args.skip_dirs, skip_files=args.skip_files)
    options = ScanOptions(
        fmt=args.format,
        output=args.output,
        fail_on=args.fail_on,
        exit_code=args.exit_code,
        ignore_unfixed=args.ignore_unfixed,
        ignore_files=args.ignore_file,
        vex_files=args.vex,
        ruleset_file=args.ruleset,
        show=show,
        timeout_s=args.timeout,
        match_advisories=args.scanners is None or "vuln" in args.scanners,
        progress=getattr(args, "live_progress", False),
    )
    return asyncio.run(scan(settings, args.target, options))


def add_db(sub: Any) -> None:
    """``assay db update|status``."""
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


def run_db(settings: Settings, args: argparse.Namespace) -> int:
    from services.cli.db import run_status, run_update

    if args.db_command == "status":
        return run_status(settings, as_json=args.json)
    update = run_update(
        settings,
        args.source,
        ecosystems=args.ecosystems,
        kev_source=args.kev,
        epss_source=args.epss,
        cvss_source=args.cvss,
        full=args.full,
        live=getattr(args, "live_progress", False),
    )
    return asyncio.run(update)


def add_feeds(sub: Any) -> None:
    """``assay feeds update``."""
    feeds = sub.add_parser("feeds", help="threat feeds of malicious URLs and IPs")
    feedsub = feeds.add_subparsers(dest="feeds_command", required=True)
    fupd = feedsub.add_parser("update", help="load feeds (one entry a line, CIDR lists, URLhaus CSV)")
    fupd.add_argument(
        "--source", action="append", required=True, help="a feed file or URL (repeat for several)"
    )


def run_feeds(settings: Settings, args: argparse.Namespace) -> int:
    from services.cli.feeds import run_feeds_update

    return asyncio.run(run_feeds_update(settings, args.source))


def add_service(sub: Any) -> None:
    """``assay service NAME``: one pipeline service (services/cli/registry.py)."""
    svc = sub.add_parser("service", help="run one service (" + ", ".join(SERVICES) + ")")
    svc.add_argument("name", choices=tuple(SERVICES))
    svc.add_argument("--once", action="store_true", help="inventory, updater: one pass and exit")


def run_service(settings: Settings, args: argparse.Namespace) -> int:
    from services.cli.service import run_named_service

    return asyncio.run(run_named_service(settings, args.name, once=args.once))


def add_up(sub: Any) -> None:
    """``assay up``: the whole pipeline on this machine."""
    up = sub.add_parser("up", help="start the whole pipeline on this machine")
    up.add_argument(
        "--until-idle",
        action="store_true",
        help="crawl once, wait until every image is scanned, print findings, stop",
    )
    up.add_argument("--idle-timeout", type=float, default=600.0)


def run_up(settings: Settings, args: argparse.Namespace) -> int:
    from services.cli.up import run_up as up

    return up(settings, until_idle=args.until_idle, idle_timeout=args.idle_timeout)


def add_rematch(sub: Any) -> None:
    """``assay rematch [--digest D]``."""
    rem = sub.add_parser("rematch", help="match stored inventories against the current advisory database")
    rem.add_argument("--digest", help="only this image digest")


def run_rematch(settings: Settings, args: argparse.Namespace) -> int:
    from services.cli.rematch import run_rematch as rematch

    return asyncio.run(rematch(settings, digest=args.digest))


def run_read(settings: Settings, args: argparse.Namespace) -> int:
    """``assay images``, ``assay findings``: filtered through the API client, else the classic listing."""
    from services.api.cli import has_filters, run_read_command

    if args.command == "images" or has_filters(args):
        return run_read_command(settings, args)
    from services.cli.service import print_findings

    return asyncio.run(print_findings(settings))
