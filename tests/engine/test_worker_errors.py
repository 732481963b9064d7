"""What fails one scan and what stops the engine: the image's and registry's errors become a
``ScanFailed``; a broken advisory database is no image's fault and propagates (the runner's
``FATAL_ERRORS_ENGINE`` then stops the worker). A layer stream's error keeps its cause.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from schemas.events import ScanCompleted, ScanFailed, ScanRequested
from schemas.records import LayerInfo
from services.common.config import DataSettings
from services.common.errors import LayerError, VulnDBError
from services.engine.analyze import analyze
from services.engine.catalogers.registry import select
from services.engine.content.settings import ContentSettings
from services.engine.worker import FATAL_ERRORS_ENGINE, EngineDeps, make_engine_handler
from services.settings import Settings
from services.vulndb.db import VulnDB
from tests.engine.memimage import Entry, Layer, MemoryImage
from tests.harness.registry import push_image, registry_server, require_tools
from tests.hostile.builders import Image, layer_tar, write_layout

STATUS = b"Package: tool\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: amd64\n\n"
FILES = {"etc/os-release": b"ID=debian\nVERSION_ID=12\n", "var/lib/dpkg/status": STATUS}


@dataclass(frozen=True)
class _BrokenAdvisories(EngineDeps):
    """An engine whose advisory build cannot be opened (as a lease on a corrupt build fails)."""

    @contextlib.contextmanager
    def advisory_db(self) -> Iterator[VulnDB | None]:
        raise VulnDBError("vuln.db: file is not a database")
        yield None  # pragma: no cover - makes this a generator


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(
        data=DataSettings(dir=str(tmp_path / "data")),
        content=ContentSettings(analyzers=[]),
        **kw,  # type: ignore[arg-type]
    )


async def test_an_unreachable_registry_fails_the_scan_not_the_worker(tmp_path: Path) -> None:
    deps = EngineDeps(settings=_settings(tmp_path), catalogers=select(), vulndb=None)
    event = ScanRequested(scan_id="s1", digest="sha256:" + "aa" * 32, image_ref="127.0.0.1:9/app:1")
    [out] = await make_engine_handler(deps)(event)
    assert isinstance(out.event, ScanFailed)
    assert "127.0.0.1:9" in out.event.error


async def test_a_broken_advisory_database_propagates_out_of_the_handler(tmp_path: Path) -> None:
    require_tools("docker-registry", "skopeo")
    with registry_server(tmp_path / "registry") as server:
        layout = write_layout(tmp_path / "good", Image(layers=[layer_tar(FILES, compress=True)]))
        push_image(server, f"oci:{layout}:latest", "good/app:1")
        event = ScanRequested(
            scan_id="s1", digest="sha256:" + "bb" * 32, image_ref=f"{server.host}/good/app:1"
        )
        settings = _settings(tmp_path, registries=[server.config()])
        healthy = EngineDeps(settings=settings, catalogers=select(), vulndb=None)
        [out] = await make_engine_handler(healthy)(event)
        assert isinstance(out.event, ScanCompleted)
        assert [p.name for p in out.event.packages] == ["tool"]
        broken = _BrokenAdvisories(settings=settings, catalogers=select(), vulndb=None)
        with pytest.raises(VulnDBError, match="not a database"):
            await make_engine_handler(broken)(event)
    assert VulnDBError in FATAL_ERRORS_ENGINE


class _FailingBlob(MemoryImage):
    """A layer whose stream breaks after its first chunk, as a dropped registry connection does."""

    async def blob(self, layer: LayerInfo) -> AsyncIterator[bytes]:
        async for chunk in super().blob(layer):
            yield chunk
            raise ConnectionResetError(104, "Connection reset by peer")


async def test_a_layer_stream_error_keeps_its_cause() -> None:
    big = Entry("srv/data.bin", bytes(range(256)) * 4096)
    image = _FailingBlob([Layer([big, Entry("var/lib/dpkg/status", STATUS)])], chunk=1024)
    with pytest.raises(LayerError, match="Connection reset by peer") as caught:
        await analyze(image, select())
    causes = []
    error: BaseException | None = caught.value
    while error is not None:
        causes.append(type(error))
        error = error.__cause__
    assert ConnectionResetError in causes
