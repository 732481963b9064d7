"""Hostile layers and trees against the walk: bombs, deep trees, odd names, huge files, many files.

Every input is built here, small or streamed (nothing large is committed); budgets are lowered
where the real default would make a test slow. Sizes are asserted, never times.
"""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

import msgspec
import pytest

from services.engine.analyze import analyze
from services.engine.budget import BudgetExceeded, ScanBudget
from services.engine.content.insecure.analyzer import InsecureCodeAnalyzer
from services.engine.content.secrets.analyzer import SecretsAnalyzer
from services.engine.content.secrets.ruleset import load_ruleset
from services.engine.requests import FileRequest
from services.engine.walk import FileHit, Skipped, walk_image
from tests.engine.memimage import DirImage, Entry, Layer, MemoryImage

MiB = 1 << 20
GHP = "ghp_" + "Zq3xK8mP2vL9wR4tY7uB1nC6dF0gH5jS2aE8"
ALL = FileRequest(name="all", patterns=("**",), shadowed=True, report_oversize=False)


def _zero_member_tar_gz(name: str, size: int, mode: int = 0o644) -> bytes:
    """A gzip layer holding one file of ``size`` zero bytes, compressed as it is produced."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = mode
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [z.compress(info.tobuf(format=tarfile.PAX_FORMAT))]
    zeros = bytes(MiB)
    left = size
    while left:
        piece = zeros[: min(left, MiB)]
        out.append(z.compress(piece))
        left -= len(piece)
    padding = -size % 512
    out.append(z.compress(bytes(padding + 1024)))
    out.append(z.flush())
    return b"".join(out)


async def _walk(image: Any, requests: list[FileRequest], budget: ScanBudget = ScanBudget()) -> list[FileHit]:
    hits: list[FileHit] = []
    skips: list[Skipped] = []
    await walk_image(image, requests, hits.append, skips.append, budget=budget)
    assert skips == []
    return hits


async def test_a_gzip_bomb_inflates_in_bounded_memory() -> None:
    # 256 MiB of zeros in about 256 KiB of gzip, arriving in 1 MiB chunks: the old reader inflated
    # each chunk whole and re-sliced the result on every read (quadratic, and all of it in memory)
    blob = _zero_member_tar_gz("zeros.bin", 256 * MiB)
    image = MemoryImage([Layer([], mangle=blob)], chunk=MiB)
    tracemalloc.start()
    try:
        await _walk(image, [FileRequest(name="conf", patterns=("etc/*",))])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 24 * MiB


async def test_a_gzip_bomb_past_the_layer_budget_fails_the_image_naming_the_budget() -> None:
    blob = _zero_member_tar_gz("zeros.bin", 64 * MiB)
    image = MemoryImage([Layer([], mangle=blob)], ref="reg/bomb:1", chunk=MiB)
    budget = ScanBudget(layer_expand_floor_bytes=16 * MiB)
    with pytest.raises(BudgetExceeded, match="layer_bytes_max") as err:
        await _walk(image, [ALL], budget)
    assert "reg/bomb:1" in str(err.value)
    assert "ASSAY_BUDGET_LAYER_BYTES_MAX" in str(err.value)


async def test_the_image_byte_budget_counts_every_layer() -> None:
    layer = Layer([Entry(f"f{i}", bytes(1024)) for i in range(8)])
    image = MemoryImage([layer, Layer([Entry(f"g{i}", bytes(1024)) for i in range(8)])])
    with pytest.raises(BudgetExceeded, match="image_bytes_max"):
        await _walk(image, [ALL], ScanBudget(image_bytes_max=20_000))


async def test_entries_path_length_and_depth_budgets() -> None:
    many = MemoryImage([Layer([Entry(f"d/f{i}", b"") for i in range(30)])])
    with pytest.raises(BudgetExceeded, match="entries_per_layer_max"):
        await _walk(many, [ALL], ScanBudget(entries_per_layer_max=20))
    deep = MemoryImage([Layer([Entry("/".join(["d"] * 40) + "/f", b"x")])])
    with pytest.raises(BudgetExceeded, match="path_depth_max"):
        await _walk(deep, [ALL], ScanBudget(path_depth_max=32))
    long = MemoryImage([Layer([Entry("d/" + "n" * 300, b"x")])])
    with pytest.raises(BudgetExceeded, match="path_bytes_max"):
        await _walk(long, [ALL], ScanBudget(path_bytes_max=256))
    assert [h.path for h in await _walk(long, [ALL])] == ["d/" + "n" * 300]


def _deep_tree(root: Path, levels: int) -> str:
    """``levels`` nested directories (built one mkdir at a time: os.makedirs itself recurses)."""
    rel = "/".join(["d"] * levels)
    current = str(root)
    for _ in range(levels):
        current += "/d"
        os.mkdir(current)
    Path(current, "leaf.txt").write_bytes(b"deep")
    return rel + "/leaf.txt"


def _remove_deep_tree(root: Path, leaf: str) -> None:
    """Bottom up, one level at a time (shutil.rmtree, as pytest's cleanup uses, recurses too)."""
    path = root / leaf
    path.unlink()
    for _ in range(leaf.count("/")):
        path = path.parent
        path.rmdir()


async def test_a_dir_tree_1500_levels_deep_is_walked_without_recursion(tmp_path: Path) -> None:
    leaf = _deep_tree(tmp_path, 1500)
    want = [FileRequest(name="leaf", patterns=("**/leaf.txt",))]
    try:
        with pytest.raises(BudgetExceeded, match="path_depth_max"):  # the default budget: a clear error
            await _walk(DirImage(str(tmp_path)), want)
        roomy = ScanBudget(path_depth_max=2000, path_bytes_max=8192)
        hits = await _walk(DirImage(str(tmp_path)), want, roomy)
        assert [(h.path, h.data) for h in hits] == [(leaf, b"deep")]
    finally:
        _remove_deep_tree(tmp_path, leaf)


def _raw_name_layer(name: bytes, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT, errors="surrogateescape") as tar:
        info = tarfile.TarInfo(name.decode("utf-8", "surrogateescape"))
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


async def test_names_that_are_not_utf8_reach_the_analysis_escaped() -> None:
    image = MemoryImage([Layer([], mangle=_raw_name_layer(b"srv/caf\xe9-\xff.env", f"T={GHP}\n".encode()))])
    result = await analyze(image, [], [SecretsAnalyzer(load_ruleset())])
    assert [d.path for d in result.detections] == ["/srv/caf\\xe9-\\xff.env"]
    msgspec.json.encode(result)  # valid UTF-8 everywhere: the report and the wire can carry it


def _raw_named_file(tmp_path: Path) -> None:
    (tmp_path / "srv").mkdir()
    Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"srv", b"na\xefve.txt"))).write_bytes(b"data")


async def test_names_that_are_not_utf8_in_a_dir_tree_are_escaped(tmp_path: Path) -> None:
    _raw_named_file(tmp_path)
    hits = await _walk(DirImage(str(tmp_path)), [ALL])
    assert [h.path for h in hits] == ["srv/na\\xefve.txt"]
    assert hits[0].path.encode("utf-8")


async def test_mode_checks_never_copy_a_huge_file_to_temporary_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    spooled: list[int] = []

    class Counting(tempfile.SpooledTemporaryFile):  # type: ignore[type-arg]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            spooled.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", Counting)
    blob = _zero_member_tar_gz("srv/world.bin", 96 * MiB, mode=0o666)
    image = MemoryImage([Layer([], mangle=blob)], chunk=MiB)
    result = await analyze(image, [], [InsecureCodeAnalyzer()])
    assert [d.path for d in result.detections if d.path] == ["/srv/world.bin"]
    assert spooled == []


async def _peak_walking(files: int) -> int:
    entries = [Entry(f"srv/data/d{i // 1000}/f{i % 1000}.txt", b"x") for i in range(files)]
    image = MemoryImage([Layer([Entry("etc/os-release", b"ID=debian\n")]), Layer(entries)])
    seen = [0]

    def count(hit: FileHit) -> None:  # hits are counted, not kept: the walk's own memory is measured
        seen[0] += 1

    tracemalloc.start()
    try:
        requests = [FileRequest(name="conf", patterns=("etc/os-release",)), ALL]
        await walk_image(image, requests, count, lambda s: None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seen[0] == files + 2
    return peak


async def test_walk_memory_per_file_is_small() -> None:
    # the old walk kept every TarInfo (about 1 KB each) and every requested path as a string
    small, large = await _peak_walking(2_000), await _peak_walking(32_000)
    per_file = (large - small) / 30_000
    assert per_file < 160, f"{per_file:.0f} bytes per file"


async def test_a_spooled_file_past_the_temporary_disk_budget_is_an_unknown_naming_the_budget() -> None:
    big = FileRequest(name="big", patterns=("opt/*",), spool=True, max_bytes=1 << 40)
    image = MemoryImage([Layer([Entry("opt/huge.bin", bytes(3 * MiB)), Entry("opt/small.bin", b"ok")])])
    hits: list[FileHit] = []
    skips: list[Skipped] = []
    budget = ScanBudget(temp_disk_bytes_max=2 * MiB)
    await walk_image(image, [big], hits.append, skips.append, budget=budget)
    assert [h.path for h in hits] == ["opt/small.bin"]
    assert [(s.path, "temp_disk_bytes_max" in s.reason) for s in skips] == [("opt/huge.bin", True)]


def _sparse_layer() -> bytes:
    """A PAX sparse member (GNU.sparse.* records): its stored bytes are a map, not the file."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("usr/bin/tool")
        info.mode = 0o4755
        info.size = 4
        info.pax_headers = {
            "GNU.sparse.major": "1",
            "GNU.sparse.minor": "0",
            "GNU.sparse.realsize": str(2 << 30),
        }
        tar.addfile(info, io.BytesIO(b"1\n0\n"))
    return buf.getvalue()


async def test_a_sparse_setuid_file_gets_its_mode_checked_and_its_content_never_read() -> None:
    modes = FileRequest(name="modes", patterns=("**",), mode_mask=0o6000, metadata_only=True)
    content = FileRequest(name="content", patterns=("usr/bin/*",), max_bytes=1 << 40)
    hits: list[FileHit] = []
    skips: list[Skipped] = []
    await walk_image(
        MemoryImage([Layer([], mangle=_sparse_layer())]), [modes, content], hits.append, skips.append
    )
    assert [(h.request, h.path, h.mode & 0o7777, h.data) for h in hits] == [
        ("modes", "usr/bin/tool", 0o4755, b"")
    ]
    assert [(s.request, s.reason) for s in skips] == [("content", "sparse file: its content is not read")]
