"""``assay service admission``: the gate served over HTTPS until stopped."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from services.admission.app import make_app, tls_context
from services.admission.gate import Gate, ImageVerdict, RequestScan
from services.admission.judge import store_judge
from services.admission.store import AdmissionReads
from services.common.clock import utcnow
from services.common.serve import serve_app
from services.common.store.postgres import Store
from services.oci.reference import parse_reference
from services.oci.registry import RegistryClient

if TYPE_CHECKING:
    from services.settings import Settings

__all__ = ["run_admission"]

log = logging.getLogger(__name__)


async def run_admission(
    settings: Settings, store: Store, request_scan: RequestScan, stop: asyncio.Event
) -> None:
    """Serve ``/validate`` on ``admission.listen`` with TLS until ``stop`` is set."""
    cfg = settings.admission
    context = tls_context(cfg.tls_cert, cfg.tls_key)
    async with RegistryClient(settings.registries) as registries:

        async def resolve(image: str) -> str:
            return await registries.resolve_digest(parse_reference(image))

        async def judge(digest: str, environment: str) -> ImageVerdict:
            # assignments are read per review: an operator's change applies to the next pod
            assignments = await store.assignments.all()
            return await store_judge(AdmissionReads(store.pool), assignments)(digest, environment)

        gate = Gate(cfg, resolve=resolve, judge=judge, request_scan=request_scan, now=utcnow)
        log.info("admission: guarding cluster:%s (%s)", cfg.cluster, cfg.mode)
        await serve_app(
            make_app(gate), cfg.listen, stop, setting="ASSAY_ADMISSION_LISTEN", log=log, ssl_context=context
        )
