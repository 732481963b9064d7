"""Scan one image: the one use case of the engine worker, ``assay scan`` and the Harbor adapter.

``scan_image`` analyses a target (in a child process under the scan budget when ``isolate``,
``services/engine/isolate.py``; else here, the layer cache's I/O off the event loop) and
matches the analysis against the advisory database of this process: a ``ScanCompleted``, or
the image's size when it is over ``max_image_bytes`` (nothing was pulled). ``scan_local`` is
the no-server form (``assay scan``, Harbor): it opens the advisory database itself and also
reads ``sbom:FILE`` targets. Assessing the result is policy's (``services/policy/assess.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from schemas.events import ScanCompleted
from services.common.errors import ImageError, VulnDBError
from services.engine.analyze import Analysis
from services.engine.core import ANALYZER_VERSION, complete_scan
from services.engine.isolate import AnalysisTools, IsolatedRequest, analyse_in_process, analyse_isolated
from services.engine.sbom import read_sbom
from services.vulndb.db import VulnDB

if TYPE_CHECKING:
    from services.settings import Settings

__all__ = ["AdvisoryDB", "scan_image", "scan_local"]

AdvisoryDB = Callable[[], AbstractContextManager[VulnDB | None]]
"""The advisory database for one scan (a lease on the current build, or a fixed one, or None)."""


async def scan_image(
    request: IsolatedRequest,
    *,
    isolate: bool,
    advisory_db: AdvisoryDB,
    scan_id: str,
    environments: Sequence[str] = (),
    version: str = ANALYZER_VERSION,
    tools: AnalysisTools | None = None,
) -> ScanCompleted | int:
    """Analyse ``request.target`` and match it: its ``ScanCompleted``, or its size when too large.

    ``tools``: what a long-running engine built once (used only when not ``isolate``: a child
    builds its own from ``request.settings``). Raises ``AssayError`` (an ``ImageError`` or a
    registry error) when the image cannot be read.
    """
    if isolate:
        result = await analyse_isolated(request)
    else:
        result = await analyse_in_process(request, tools)
    if result.analysis is None:
        return result.too_large
    with advisory_db() as vulndb:
        return complete_scan(
            result.analysis, scan_id=scan_id, vulndb=vulndb, environments=environments, version=version
        )


def _sbom_analysis(path: str, settings: Settings) -> Analysis:
    """The packages of the SBOM file at ``path``, read within the parsed-file budget."""
    limit = settings.budget.parsed_file_bytes_max
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise ImageError(f"sbom:{path}: cannot read: {exc.strerror}") from exc
    if len(data) > limit:
        raise ImageError(f"sbom:{path}: larger than {limit} bytes (ASSAY_BUDGET_PARSED_FILE_BYTES_MAX)")
    return read_sbom(path, data)


def _open_advisories(settings: Settings, wanted: bool) -> VulnDB | None:
    """The local advisory database; a missing one is a warning on stderr, not an error."""
    if not wanted:
        return None
    try:
        return VulnDB.open(settings.effective_db_path)
    except VulnDBError as exc:
        print(f"assay: warning: {exc}", file=sys.stderr)
        return None


async def scan_local(
    settings: Settings, target: str, *, match_advisories: bool = True, progress: bool = False
) -> ScanCompleted:
    """Scan one target of the no-server modes with the local advisory database: its detections.

    ``sbom:FILE`` reads a document's packages (matched alike, no image); ``dir:PATH`` uses the
    directory catalogers. ``match_advisories=False`` (``--scanners`` without ``vuln``) lists
    packages without matching them. Raises ``AssayError`` when the target cannot be read; a
    missing advisory database is a warning and a note in the result.
    """
    vulndb = _open_advisories(settings, match_advisories)

    @contextlib.contextmanager
    def advisories() -> Iterator[VulnDB | None]:
        yield vulndb

    scan_id = uuid.uuid4().hex
    try:
        if target.startswith("sbom:"):  # a document's packages, no image: matched and assessed alike
            analysis = await asyncio.to_thread(_sbom_analysis, target.removeprefix("sbom:"), settings)
            return complete_scan(analysis, scan_id=scan_id, vulndb=vulndb)
        tags = ["directory"] if target.startswith("dir:") else ["image"]
        request = IsolatedRequest(target=target, settings=settings, catalog_tags=tags, progress=progress)
        scanned = await scan_image(
            request, isolate=settings.scan.isolation, advisory_db=advisories, scan_id=scan_id
        )
        assert not isinstance(scanned, int)  # no size limit was asked for
        return scanned
    finally:
        if vulndb is not None:
            vulndb.close()
