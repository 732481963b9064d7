"""Each image analysed in a child process under the scan budget (services/engine/isolate.py).

The limits are real (``RLIMIT_AS``, wall time); the last test runs the engine service loop
(the runner, on the memory bus) against Debian's ``docker-registry`` holding hostile images, and checks it
keeps consuming: each hostile image ends as ``ScanFailed`` naming the budget, or a bounded
``ScanCompleted``, and the good image after them is scanned.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from schemas import ScanCompleted, ScanFailed, ScanRequested, Topics, decode_event, encode_event
from services.common.bus.memory import MemoryBus
from services.common.config import DataSettings
from services.common.errors import ImageError
from services.common.runner import run_service
from services.engine.budget import BudgetExceeded, ScanBudget
from services.engine.catalogers.registry import select
from services.engine.content.settings import ContentSettings
from services.engine.isolate import IsolatedRequest, analyse_in_process, analyse_isolated, child_environment
from services.engine.worker import EngineDeps, make_engine_handler
from services.settings import Settings
from tests.harness.registry import RegistryServer, push_image, registry_server, require_tools
from tests.hostile.builders import Image, layer_tar, write_layout
from tests.hostile.generate import CASES

STATUS = b"Package: tool\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: amd64\n\n"
GOOD_FILES = {"etc/os-release": b"ID=debian\nVERSION_ID=12\n", "var/lib/dpkg/status": STATUS}


def good_layout(root: Path) -> Path:
    return write_layout(root, Image(layers=[layer_tar(GOOD_FILES, compress=True)]))


def settings(tmp_path: Path, **budget: Any) -> Settings:
    return Settings(
        data=DataSettings(dir=str(tmp_path / "data")),
        content=ContentSettings(analyzers=[]),
        budget=ScanBudget(**budget),
    )


async def test_the_child_gives_what_the_process_itself_gives(tmp_path: Path) -> None:
    request = IsolatedRequest(target=f"oci:{good_layout(tmp_path / 'l')}", settings=settings(tmp_path))
    isolated = await analyse_isolated(request)
    here = await analyse_in_process(request)
    assert isolated.analysis is not None
    assert [p.name for p in isolated.analysis.packages] == ["tool"]
    assert isolated.analysis == here.analysis


async def test_wall_time_past_the_budget_kills_the_child(tmp_path: Path) -> None:
    request = IsolatedRequest(
        target=f"oci:{good_layout(tmp_path / 'l')}", settings=settings(tmp_path, image_seconds_max=0.05)
    )
    with pytest.raises(BudgetExceeded, match=r"scan budget image_seconds_max exceeded .*IMAGE_SECONDS_MAX"):
        await analyse_isolated(request)


async def test_memory_past_the_budget_is_a_budget_error_not_a_dead_engine(tmp_path: Path) -> None:
    request = IsolatedRequest(
        target=f"oci:{good_layout(tmp_path / 'l')}", settings=settings(tmp_path, memory_bytes_max=64 << 20)
    )
    with pytest.raises(ImageError, match=r"scan budget memory_bytes_max exceeded \(limit 67108864"):
        await analyse_isolated(request)
    # the parent is untouched: the same image under the default budget is fine
    ok = IsolatedRequest(target=request.target, settings=settings(tmp_path))
    assert (await analyse_isolated(ok)).analysis is not None


async def test_too_large_images_are_answered_without_pulling(tmp_path: Path) -> None:
    request = IsolatedRequest(
        target=f"oci:{good_layout(tmp_path / 'l')}", settings=settings(tmp_path), max_image_bytes=10
    )
    result = await analyse_isolated(request)
    assert result.analysis is None
    assert result.too_large > 10


@pytest.fixture
def hostile_registry(tmp_path: Path) -> Iterator[tuple[RegistryServer, dict[str, str]]]:
    """A registry holding two hostile images and a good one: repository -> reference."""
    require_tools("docker-registry", "skopeo")
    with registry_server(tmp_path / "registry") as server:
        refs: dict[str, str] = {}
        for name in ("gzip-bomb-1gib", "dpkg-status-continuations"):
            target = CASES[name](tmp_path / name)
            push_image(server, f"{target}:latest", f"hostile/{name}:1")
            refs[name] = f"{server.host}/hostile/{name}:1"
        push_image(server, f"oci:{good_layout(tmp_path / 'good')}:latest", "good/app:1")
        refs["good"] = f"{server.host}/good/app:1"
        yield server, refs


async def test_the_engine_keeps_consuming_after_hostile_images(
    hostile_registry: tuple[RegistryServer, dict[str, str]], tmp_path: Path
) -> None:
    server, refs = hostile_registry
    config = Settings(
        data=DataSettings(dir=str(tmp_path / "data")),
        registries=[server.config()],
        content=ContentSettings(analyzers=[]),
        budget=ScanBudget(memory_bytes_max=2 << 30),
    )
    deps = EngineDeps(settings=config, catalogers=select(), vulndb=None, isolate=True)
    bus = MemoryBus(partitions=1)
    await bus.start()
    for name, ref in refs.items():  # the hostile ones first: the good one must still be scanned
        event = ScanRequested(scan_id=name, digest=f"sha256:{name}", image_ref=ref)
        await bus.publish(Topics.SCAN_REQUESTS, event.digest, encode_event(event))
    stop = asyncio.Event()
    service = asyncio.create_task(
        run_service(
            bus,
            service="engine",
            group="engine",
            topics=[Topics.SCAN_REQUESTS],
            handler=make_engine_handler(deps),
            stop=stop,
            max_records=1,
        )
    )
    try:
        for _ in range(1200):
            if service.done() or sum(bus.committed("engine").values()) == len(refs):
                break
            await asyncio.sleep(0.5)
    finally:
        stop.set()
        await asyncio.wait_for(service, 60)  # re-raises if the service died
        await bus.stop()
    answers = {}
    for message in bus.records(Topics.DETECTIONS):
        event = decode_event(Topics.DETECTIONS, message.value)
        assert isinstance(event, ScanCompleted | ScanFailed)
        answers[event.scan_id] = event
    assert bus.records(Topics.DLQ) == []
    bomb = answers["gzip-bomb-1gib"]
    assert isinstance(bomb, ScanFailed)
    assert "scan budget layer_bytes_max exceeded" in bomb.error
    assert isinstance(answers["dpkg-status-continuations"], ScanCompleted)
    good = answers["good"]
    assert isinstance(good, ScanCompleted)
    assert [p.name for p in good.packages] == ["tool"]


def test_the_child_caps_malloc_arenas_unless_the_operator_chose() -> None:
    """glibc's per-thread arenas held about a quarter of a scan's peak RSS (benchmarks/README.md)."""
    assert child_environment({"PATH": "/bin"}) == {"PATH": "/bin", "MALLOC_ARENA_MAX": "1"}
    assert child_environment({"MALLOC_ARENA_MAX": "4"})["MALLOC_ARENA_MAX"] == "4"
