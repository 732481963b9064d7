"""Analyse one image in a child process under the scan budget's limits.

The layer walk, the catalogers and the content analyzers read whatever the image's author
put there. Every parser has budgets of its own, but a parser bug (a quadratic loop, an
allocation nobody bounded) must still not take the engine, its other scans and its consumer
with it. So the analysis of each image runs in ``python -m services.engine.isolate``:

- ``RLIMIT_AS`` = ``budget.memory_bytes_max``: an allocation past it is a ``MemoryError`` in
  the child, reported as that budget;
- ``RLIMIT_FSIZE`` = ``budget.temp_disk_bytes_max``: no temporary file grows past it;
- ``budget.image_seconds_max`` of wall time: the parent kills the child and reports it.

The request (target, settings) goes to the child's stdin and the ``Analysis`` comes back on
its stdout, both msgpack. Advisory matching stays in the parent (``core.complete_scan``), so
the advisory database is opened once, not per image. Every failure is an ``ImageError``
whose one-line message names the target and the budget or the reason.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import msgspec

from services.common.aws import AwsClients
from services.common.config import RegistryConfig
from services.common.errors import AssayError, ImageError
from services.common.progress import Progress
from services.engine.analyze import Analysis, analyze
from services.engine.budget import BudgetExceeded, ScanBudget
from services.engine.catalogers.interface import Cataloger
from services.engine.catalogers.registry import select
from services.engine.content.registry import ContentAnalysis
from services.engine.credentials import engine_client_factory
from services.engine.image.interface import OpenedImage
from services.engine.image.progress import ProgressImage
from services.engine.image.targets import parse_target
from services.oci.credentials.build import pulling_with
from services.oci.credentials.podsecrets import PodPullSecrets, ResolvedPullSecret
from services.oci.registry import RegistryClient
from services.settings import Settings  # at run time: msgspec decodes the child's request with it

__all__ = ["AnalysisTools", "IsolatedRequest", "IsolatedResult", "analyse_in_process", "analyse_isolated"]

log = logging.getLogger(__name__)

_OUTPUT_MAX = 1 << 30  # an Analysis is far smaller; more is a broken child
_MALLOC_ARENAS = "1"  # glibc malloc arenas of the analysis child (child_environment)
_ClientFactory = Callable[[Sequence[RegistryConfig]], RegistryClient]


class IsolatedRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What the child analyses, and how."""

    target: str
    settings: Settings
    # catalogers carrying all of these tags (``catalogers.registry.select``)
    catalog_tags: list[str] = msgspec.field(default_factory=lambda: ["image"])
    content: bool = True  # run the content analyzers (with the layer cache) of ``settings``
    max_image_bytes: int = 0  # larger images (by their manifest) are not pulled; 0: no limit
    registry_credentials: bool = False  # ECR tokens and registry host overrides, as the engine has them
    progress: bool = False  # draw a bar per layer on this process's stderr (a person is watching)
    # the pull secrets the pods running the image name, read for this pull (oci/credentials/kube.py):
    # asked before the engine's own credentials; they reach the child on its stdin, never the bus
    pull_secrets: list[ResolvedPullSecret] = msgspec.field(default_factory=list)


class IsolatedResult(msgspec.Struct, frozen=True, kw_only=True):
    """The child's answer: an analysis, an image too large to pull (its size), or an error."""

    analysis: Analysis | None = None
    too_large: int = 0
    error: str = ""


def _apply_limits(budget: ScanBudget) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (budget.memory_bytes_max, budget.memory_bytes_max))
    resource.setrlimit(resource.RLIMIT_FSIZE, (budget.temp_disk_bytes_max, budget.temp_disk_bytes_max))
    # past RLIMIT_FSIZE a write fails with EFBIG instead of killing the process
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


@dataclass(frozen=True)
class AnalysisTools:
    """What an in-process analysis uses when a long-running engine built it once at start-up."""

    catalogers: tuple[Cataloger, ...]
    content: ContentAnalysis | None = None
    client_factory: _ClientFactory | None = None


async def analyse_in_process(request: IsolatedRequest, tools: AnalysisTools | None = None) -> IsolatedResult:
    """Open the image, check its size, walk it once, here (the child's work; ``scan.isolation`` off).

    ``tools``: the engine's catalogers, content analyzers and registry clients; None builds them
    from ``request`` (a child, ``assay scan``). Errors raise (``AssayError``) rather than coming
    back in the result.
    """
    if tools is not None:
        return await _open_and_walk(request, tools)
    settings = request.settings
    content = ContentAnalysis.from_settings(settings) if request.content else None
    catalogers = select(tuple(request.catalog_tags))
    if request.registry_credentials:  # the engine's credential chain, ECR tokens included
        async with AwsClients(settings.aws) as aws:
            factory = engine_client_factory(settings, aws)
            return await _open_and_walk(request, AnalysisTools(catalogers, content, factory))
    return await _open_and_walk(request, AnalysisTools(catalogers, content))


async def _open_and_walk(request: IsolatedRequest, tools: AnalysisTools) -> IsolatedResult:
    settings = request.settings
    pods = PodPullSecrets(secrets=request.pull_secrets).provider()
    source = parse_target(
        request.target,
        registries=settings.registries,
        platform=settings.platform,
        client_factory=pulling_with(tools.client_factory, pods),
        budget=settings.budget,
    )
    image = await source.open()  # the manifest and config only: layers stream in analyze()
    with Progress(sys.stderr, live=request.progress) as progress:
        if progress.live:  # ``assay scan`` on a terminal: a bar per layer pulled and walked
            image = ProgressImage(image, progress)
        return await _walk_opened(request, tools, image)


async def _walk_opened(request: IsolatedRequest, tools: AnalysisTools, image: OpenedImage) -> IsolatedResult:
    settings = request.settings
    async with image:
        size = sum(max(0, layer.size) for layer in image.info.layers)
        if 0 < request.max_image_bytes < size:
            return IsolatedResult(too_large=size)
        # the layer cache may be S3 (blocking botocore calls): off the event loop, which also
        # carries the engine's other scans and the consumer's heartbeats
        content = tools.content
        bound = await asyncio.to_thread(content.bind, image.info.layers) if content is not None else None
        analyzers = bound.analyzers if bound is not None else ()
        analysis = await analyze(image, tools.catalogers, analyzers, settings.budget)
        if bound is not None:
            await asyncio.to_thread(bound.commit)
    return IsolatedResult(analysis=analysis)


def _out_of_memory(budget: ScanBudget, target: str) -> IsolatedResult:
    return IsolatedResult(error=str(BudgetExceeded("memory_bytes_max", budget.memory_bytes_max, target)))


def _child_main() -> int:
    request = msgspec.msgpack.decode(sys.stdin.buffer.read(), type=IsolatedRequest)
    budget = request.settings.budget
    _apply_limits(budget)
    try:
        result = asyncio.run(analyse_in_process(request))
    except AssayError as exc:
        result = IsolatedResult(error=str(exc))
    except MemoryError:
        result = _out_of_memory(budget, request.target)
    except Exception as exc:
        if isinstance(exc, RuntimeError) and "can't start new thread" in str(exc):
            # under RLIMIT_AS a thread's stack is an allocation like any other
            result = _out_of_memory(budget, request.target)
        else:  # a bug, not the image's fault: one line here, the traceback in the log
            log.debug("analysis of %s failed", request.target, exc_info=exc)
            result = IsolatedResult(error=f"{request.target}: analysis failed: {type(exc).__name__}: {exc}")
    sys.stdout.buffer.write(msgspec.msgpack.encode(result))
    sys.stdout.buffer.flush()
    return 0


def child_environment(parent: Mapping[str, str]) -> dict[str, str]:
    """The analysis child's environment: the parent's, with glibc's malloc arenas capped at
    ``_MALLOC_ARENAS`` unless the operator set ``MALLOC_ARENA_MAX``. The walk allocates from a few
    threads; one arena per thread (glibc's default: up to 8 per core) kept about a quarter of a
    scan's peak RSS in half-empty arenas (benchmarks/README.md, issue 17)."""
    return {"MALLOC_ARENA_MAX": _MALLOC_ARENAS, **parent}


def _signal_reason(returncode: int, budget: ScanBudget, target: str) -> str:
    signum = -returncode
    if signum == signal.SIGXFSZ:
        return str(BudgetExceeded("temp_disk_bytes_max", budget.temp_disk_bytes_max, target))
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = str(signum)
    hint = " (out of memory?)" if signum == signal.SIGKILL else ""
    return f"{target}: the analysis process was killed by {name}{hint}"


async def analyse_isolated(request: IsolatedRequest) -> IsolatedResult:
    """Run the analysis of ``request.target`` in a child process; see the module docstring.

    Returns the child's analysis or its "too large" answer; raises ``ImageError`` (or
    ``BudgetExceeded``) with a one-line message for everything else.
    """
    budget = request.settings.budget
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.engine.isolate",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=child_environment(os.environ),
    )
    try:
        out, _ = await asyncio.wait_for(
            proc.communicate(msgspec.msgpack.encode(request)), budget.image_seconds_max
        )
    except TimeoutError:
        raise BudgetExceeded("image_seconds_max", budget.image_seconds_max, request.target) from None
    finally:
        if proc.returncode is None:  # timed out or cancelled (SIGTERM drain): never leave it running
            proc.kill()
            await proc.wait()
    if proc.returncode:
        if proc.returncode < 0:
            raise ImageError(_signal_reason(proc.returncode, budget, request.target))
        raise ImageError(f"{request.target}: the analysis process exited with status {proc.returncode}")
    try:
        result = msgspec.msgpack.decode(out[:_OUTPUT_MAX], type=IsolatedResult)
    except msgspec.DecodeError as exc:
        raise ImageError(f"{request.target}: the analysis process gave no readable answer: {exc}") from exc
    if result.error:
        raise ImageError(result.error)
    return result


if __name__ == "__main__":
    sys.exit(_child_main())
