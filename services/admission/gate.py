"""The gate's decision for one AdmissionReview: which images, what Assay knows of each, allow or deny.

An image whose reference carries no digest is resolved through its registry (within a short
timeout). Each digest gets a verdict: ``over`` (an open ImageScan finding under the environment's
ruleset: its thresholds were passed), ``clear``, or ``unknown`` (never seen, not scanned yet, or
not evaluated under that ruleset), in which case a scan is asked for with an inventory sighting.
``enforce`` mode denies ``over``; ``warn`` mode only warns. ``unknown`` is let through with a
warning unless ``fail_closed``. Exempt namespaces pass untouched.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Literal

import msgspec

from schemas.events import ImageDiscovered
from services.admission.review import AdmissionReview, pod_images, review_response
from services.admission.settings import AdmissionConfig
from services.common.errors import AssayError
from services.oci.reference import parse_reference

__all__ = ["Gate", "ImageVerdict", "Judge", "RequestScan", "Resolve"]

log = logging.getLogger(__name__)

Resolve = Callable[[str], Awaitable[str]]  # image reference -> manifest digest
RequestScan = Callable[[ImageDiscovered], Awaitable[None]]
_DECODER = msgspec.json.Decoder(AdmissionReview)


class ImageVerdict(msgspec.Struct, frozen=True, kw_only=True):
    """What Assay knows of one digest in one environment; ``detail`` says why, for people."""

    state: Literal["over", "clear", "unknown"]
    detail: str = ""


Judge = Callable[[str, str], Awaitable[ImageVerdict]]  # (digest, environment) -> verdict


class Gate:
    """Decides AdmissionReviews for one cluster (``environment`` ``cluster:<name>``)."""

    def __init__(
        self,
        cfg: AdmissionConfig,
        *,
        resolve: Resolve,
        judge: Judge,
        request_scan: RequestScan,
        now: Callable[[], str],
    ) -> None:
        self._cfg = cfg
        self._environment = f"cluster:{cfg.cluster}"
        self._resolve = resolve
        self._judge = judge
        self._request_scan = request_scan
        self._now = now

    async def review(self, body: bytes) -> bytes:
        """The AdmissionReview response for one request body; ``ValueError`` for a body that is none."""
        try:
            review = _DECODER.decode(body)
        except msgspec.DecodeError as exc:
            raise ValueError(f"not an AdmissionReview: {exc}") from exc
        request = review.request
        if review.apiVersion != "admission.k8s.io/v1" or request is None:
            raise ValueError("not an admission.k8s.io/v1 AdmissionReview request")
        if request.namespace in self._cfg.exempt_namespaces:
            return review_response(request.uid, allowed=True)
        denials: list[str] = []
        warnings: list[str] = []
        for container, image in pod_images(request.kind.kind, request.object):
            verdict = await self._verdict(image, request.namespace, request.dryRun)
            line = f"{container}: {image}: {verdict.detail}"
            if (verdict.state == "over" and self._cfg.mode == "enforce") or (
                verdict.state == "unknown" and self._cfg.fail_closed
            ):
                denials.append(line)
            elif verdict.state != "clear":
                warnings.append(f"assay: {line}")
        if denials:
            message = "assay: denied by the image policy of " + self._environment + ": " + "; ".join(denials)
            return review_response(request.uid, allowed=False, message=message, warnings=warnings)
        return review_response(request.uid, allowed=True, warnings=warnings)

    async def _verdict(self, image: str, namespace: str, dry_run: bool) -> ImageVerdict:
        try:
            ref = parse_reference(image)
            digest = ref.digest or await asyncio.wait_for(self._resolve(image), self._cfg.resolve_timeout_s)
            verdict = await self._judge(digest, self._environment)
        except (AssayError, TimeoutError, OSError) as exc:
            log.warning("admission: %s: %s", image, exc)
            return ImageVerdict(state="unknown", detail=f"cannot be judged ({exc or 'timed out'})")
        if verdict.state == "unknown" and not dry_run:
            sighting = ImageDiscovered(
                environment=self._environment, registry=ref.registry, repository=ref.repository,
                digest=digest, tag=ref.tag, discovered_at=self._now(), namespace=namespace,
            )  # fmt: skip
            try:
                await self._request_scan(sighting)
            except AssayError as exc:
                log.warning("admission: %s: could not ask for a scan: %s", image, exc)
        return verdict
