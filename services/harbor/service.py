"""``assay service harbor``: the scanner adapter, served until stopped."""

from __future__ import annotations

import asyncio
import logging
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from services.common.errors import VulnDBError
from services.common.serve import serve_app
from services.harbor.app import make_app
from services.harbor.jobs import Jobs
from services.harbor.models import (
    DOCKER_MANIFEST,
    OCI_MANIFEST,
    RAW_REPORT_MIME,
    REPORT_MIME,
    Scanner,
    ScannerAdapterMetadata,
    ScannerCapability,
)
from services.harbor.scanner import registry_scanner
from services.vulndb.db import VulnDB

if TYPE_CHECKING:
    from services.settings import Settings

__all__ = ["adapter_metadata", "run"]

log = logging.getLogger(__name__)


def _assay_version() -> str:
    try:
        return version("assay")
    except PackageNotFoundError:  # run from a checkout without an install
        return "0.0.0"


def adapter_metadata(settings: Settings) -> ScannerAdapterMetadata:
    """What Harbor shows for this scanner; the advisory data's build time when there is a database."""
    properties = {"harbor.scanner-adapter/scanner-type": "os-package-vulnerability"}
    try:
        with VulnDB.open(settings.effective_db_path) as db:
            built = db.meta().get("built_at", "")
        if built:
            properties["harbor.scanner-adapter/vulnerability-database-updated-at"] = built
    except VulnDBError as exc:
        log.warning("harbor: %s", exc)
    return ScannerAdapterMetadata(
        scanner=Scanner(name="Assay", vendor="Assay", version=_assay_version()),
        capabilities=[
            ScannerCapability(
                consumes_mime_types=[OCI_MANIFEST, DOCKER_MANIFEST],
                produces_mime_types=[REPORT_MIME, RAW_REPORT_MIME],
            )
        ],
        properties=properties,
    )


async def run(settings: Settings, stop: asyncio.Event) -> None:
    """Serve the adapter on ``harbor.listen`` until ``stop`` is set; running scans are cancelled."""
    cfg = settings.harbor
    jobs = Jobs(
        registry_scanner(settings),
        concurrency=cfg.concurrency,
        max_jobs=cfg.max_jobs,
        ttl_s=cfg.report_ttl_s,
    )
    app = make_app(jobs, adapter_metadata(settings), api_key=cfg.api_key)
    try:
        await serve_app(app, cfg.listen, stop, setting="ASSAY_HARBOR_LISTEN", log=log)
    finally:
        await jobs.aclose()
