"""``assay rescan DIGEST...|--all``: request new scans on purpose (``reason=requested``).

Delivery: the command moves each image to its next scan generation in PostgreSQL (a new scan
id, so the policy's scan-id idempotency does not swallow the result), publishes the
``ScanRequested`` events straight to ``assay.scan-requests.v1`` and confirms them, exactly as
dedupe does. If the publish fails, the claims stay requested-but-unpublished: the next sighting
of the digest, or dedupe's sweep after the scan timeout, publishes them. Images seen only where
they cannot be pulled (ECS Fargate) are not requested.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from services.common.bus.kafka import KafkaBus
from services.common.config import Settings, kafka_security
from services.common.errors import AssayError, ConfigError
from services.common.store.postgres import Store
from services.dedupe.sweep import publish_requests
from services.dedupe.version import recorded_version

__all__ = ["add_rescan_command", "run_rescan"]


def add_rescan_command(sub: Any) -> None:
    """Register ``assay rescan`` on the subcommand parser ``sub``."""
    p = sub.add_parser("rescan", help="request new scans of images (by digest, or --all)")
    p.add_argument("digests", nargs="*", metavar="DIGEST", help="image manifest digests")
    p.add_argument("--all", action="store_true", help="every image that can be pulled")


async def run_rescan(settings: Settings, args: argparse.Namespace) -> int:
    """Request the rescans; print one line per request. Exit 2 on bad arguments or an outage."""
    if bool(args.digests) == bool(args.all):
        print("assay rescan: give image digests or --all (not both)", file=sys.stderr)
        return 2
    try:
        if not settings.pg_dsn or not settings.kafka_bootstrap:
            raise ConfigError("assay rescan needs ASSAY_PG_DSN and ASSAY_KAFKA_BOOTSTRAP")
        store = await Store.connect(settings.pg_dsn)
        try:
            version = await recorded_version(store.builds.analysis_version)  # the engines' own
            claimed = await store.claims.rescan(None if args.all else args.digests, analysis_version=version)
            security = kafka_security(settings)
            bus = KafkaBus(settings.kafka_bootstrap, client_id="assay-rescan", security=security)
            await bus.start()
            try:
                await publish_requests(bus, store.claims, claimed)
            finally:
                await bus.stop()
        finally:
            await store.close()
    except AssayError as exc:
        print(f"assay rescan: error: {exc}", file=sys.stderr)
        return 2
    for c in claimed:
        print(f"requested {c.digest} {c.image_ref} scan {c.scan_id}")
    missing = sorted(set(args.digests) - {c.digest for c in claimed})
    for digest in missing:
        print(f"assay rescan: {digest}: no such image that can be pulled", file=sys.stderr)
    print(f"{len(claimed)} rescans requested", file=sys.stderr)
    return 1 if missing else 0
