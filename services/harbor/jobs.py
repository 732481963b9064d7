"""Accepted scans and their reports: bounded in number, in time and in concurrency.

Harbor polls ``/scan/{id}/report`` until it gets 200 or 500, then keeps the report itself; a
job therefore lives here only until it has been fetched or has expired (``ttl_s``), and at most
``max_jobs`` are kept (the oldest finished ones go first). State is per process: run one
adapter replica (Harbor asks again for a scan whose report answers 404).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from services.common.errors import AssayError
from services.harbor.models import ScanRequest
from services.harbor.scanner import RequestError, ScanImage
from services.policy.report import Report

__all__ = ["Job", "Jobs", "TooManyJobs"]

log = logging.getLogger(__name__)


class TooManyJobs(RuntimeError):
    """Every slot holds a scan still running: the request is refused rather than queued unbounded."""


@dataclass
class Job:
    """One accepted scan request and, once done, its report or its error."""

    id: str
    request: ScanRequest
    accepted: float
    status: Literal["pending", "done", "failed"] = "pending"
    report: Report | None = None
    error: str = ""
    finished: float = 0.0
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class Jobs:
    """Runs scans ``concurrency`` at a time and keeps their outcomes for Harbor to fetch."""

    def __init__(
        self,
        scanner: ScanImage,
        *,
        concurrency: int = 1,
        max_jobs: int = 1000,
        ttl_s: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._scanner = scanner
        self._slots = asyncio.Semaphore(concurrency)
        self._max = max_jobs
        self._ttl = ttl_s
        self._clock = clock
        self._jobs: OrderedDict[str, Job] = OrderedDict()

    def submit(self, request: ScanRequest) -> Job:
        """Accept ``request`` and start its scan; ``TooManyJobs`` when no slot can be freed."""
        self._evict()
        finished = [k for k, j in self._jobs.items() if j.status != "pending"]
        while len(self._jobs) >= self._max and finished:  # the oldest finished reports make room
            del self._jobs[finished.pop(0)]
        if len(self._jobs) >= self._max:
            raise TooManyJobs(f"{len(self._jobs)} scans are already accepted and running")
        job = Job(id=uuid.uuid4().hex, request=request, accepted=self._clock())
        self._jobs[job.id] = job
        job.task = asyncio.create_task(self._run(job), name=f"harbor-scan-{job.id}")
        return job

    def get(self, job_id: str) -> Job | None:
        """The job with this id, unless unknown or expired."""
        self._evict()
        return self._jobs.get(job_id)

    async def aclose(self) -> None:
        """Cancel the scans still running."""
        tasks = [j.task for j in self._jobs.values() if j.task is not None and not j.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _evict(self) -> None:
        """Forget finished jobs older than the TTL."""
        now = self._clock()
        for job_id in [
            k for k, j in self._jobs.items() if j.status != "pending" and now - j.finished > self._ttl
        ]:
            del self._jobs[job_id]

    async def _run(self, job: Job) -> None:
        async with self._slots:
            try:
                job.report = await self._scanner(job.request)
                job.status = "done"
            except (AssayError, RequestError) as exc:
                job.error, job.status = str(exc), "failed"
            except Exception:  # any other failure still ends the job: Harbor polls until 200 or 500
                log.exception("harbor: scan %s of %s failed", job.id, job.request.artifact.digest)
                job.error, job.status = "internal error while scanning (see the adapter's log)", "failed"
            finally:
                job.finished = self._clock()
