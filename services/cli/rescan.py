"""``assay rescan DIGEST...|--all``: request new scans on purpose (``reason=requested``).

Delivery: the command moves each image to its next scan generation in PostgreSQL (a new scan
id, so the policy's scan-id idempotency does not swallow the result), publishes the
``ScanRequested`` events straight to ``assay.scan-requests.v1`` and confirms them, exactly as
dedupe does. If the publish fails, the claims stay requested-but-unpublished: the next sighting
of the digest, or dedupe's sweep after the scan timeout, publishes them. Images seen only where
they cannot be pulled (ECS Fargate) are refused with the note the console and the API give them.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from services.common.errors import AssayError, ConfigError

if TYPE_CHECKING:
    from services.common.store.postgres import Store
    from services.settings import Settings

__all__ = ["add_rescan_command", "run_rescan"]


async def _refusals(store: Store, digests: list[str]) -> dict[str, str]:
    """Why each of ``digests`` (not requested) was refused: unknown, or seen only where none can pull it."""
    from services.api.rescan import FARGATE_NOTE
    from services.api.store import Reads

    out: dict[str, str] = {}
    for digest in digests:
        image = await Reads(store.pool).image(digest)
        if image is None:
            out[digest] = "no such image"
        else:
            out[digest] = FARGATE_NOTE if not image.scannable else "it has no reference to pull"
    return out


def add_rescan_command(sub: Any) -> None:
    """Register ``assay rescan`` on the subcommand parser ``sub``."""
    p = sub.add_parser("rescan", help="request new scans of images (by digest, or --all)")
    p.add_argument("digests", nargs="*", metavar="DIGEST", help="image manifest digests")
    p.add_argument("--all", action="store_true", help="every image that can be pulled")


async def run_rescan(settings: Settings, args: argparse.Namespace) -> int:
    """Request the rescans; print one line per request. Exit 2 on bad arguments or an outage."""
    # imported here: every ``assay`` command registers this one, few run it (the API's modules are slow)
    from services.common.lifespan import Needs, lifespan
    from services.common.scan_requests import publish_requests, recorded_version
    from services.common.store.requests import Requests

    if bool(args.digests) == bool(args.all):
        print("assay rescan: give image digests or --all (not both)", file=sys.stderr)
        return 2
    try:
        if not settings.pg.dsn or not settings.kafka.bootstrap:
            raise ConfigError("assay rescan needs ASSAY_PG_DSN and ASSAY_KAFKA_BOOTSTRAP")
        async with lifespan(settings, "rescan", Needs()) as resources:
            store = resources.need_store()
            version = await recorded_version(store.builds.analysis_version)  # the engines' own
            requests = Requests(store.pool)
            claimed = await requests.rescan(None if args.all else args.digests, analysis_version=version)
            refused = await _refusals(store, sorted(set(args.digests) - {c.digest for c in claimed}))
            await publish_requests(resources.need_bus(), requests, claimed)
    except AssayError as exc:
        print(f"assay rescan: error: {exc}", file=sys.stderr)
        return 2
    for c in claimed:
        print(f"requested {c.digest} {c.image_ref} scan {c.scan_id}")
    for digest, reason in refused.items():
        print(f"assay rescan: {digest}: refused: {reason}", file=sys.stderr)
    print(f"{len(claimed)} rescans requested", file=sys.stderr)
    return 1 if refused else 0
