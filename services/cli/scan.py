"""``assay scan TARGET``: analysis and policy in one process, no servers."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

from services.cli.formats import FORMATTERS, build_report
from services.common.config import Settings
from services.common.errors import AssayError, VulnDBError
from services.engine.catalogers.registry import select
from services.engine.core import detect
from services.engine.image.targets import parse_target
from services.policy.ruleset import DEFAULT_RULESET, evaluate, severity_rank
from services.vulndb.db import VulnDB

EXIT_FINDINGS = 1
EXIT_ERROR = 2


async def run_scan(
    settings: Settings,
    target: str,
    *,
    fmt: str,
    output: str | None,
    fail_on: str | None,
) -> int:
    """Scan one target, print the chosen format, and return the exit code."""
    try:
        vulndb: VulnDB | None = VulnDB.open(settings.effective_db_path)
    except VulnDBError as exc:
        print(f"assay: warning: {exc}", file=sys.stderr)
        vulndb = None
    try:
        source = parse_target(target, registries=settings.registries, platform=settings.platform)
        tags = ("directory",) if target.startswith("dir:") else ("image",)
        image = await source.open()
        async with image:
            detections = await detect(image, scan_id=uuid.uuid4().hex, catalogers=select(tags), vulndb=vulndb)
    except AssayError as exc:
        print(f"assay: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if vulndb is not None:
            vulndb.close()
    outcome = evaluate(DEFAULT_RULESET, digest=detections.image.digest, matches=detections.matches)
    report = build_report(detections, outcome)
    text = FORMATTERS[fmt](report)
    if output:
        await asyncio.to_thread(Path(output).write_text, text)
    else:
        sys.stdout.write(text)
    for unknown in report.unknowns:
        print(
            f"assay: warning: could not read {unknown.path} in layer {unknown.layer_digest or '-'}: "
            f"{unknown.reason}",
            file=sys.stderr,
        )
    if fail_on:
        limit = severity_rank(fail_on.upper())
        if any(f.category == "CVE" and severity_rank(f.severity) <= limit for f in report.findings):
            return EXIT_FINDINGS
    return 0
