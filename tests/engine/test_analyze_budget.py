"""The scan budget in the analysis core: unknowns per image, bytes per parsed file, parsers' budgets."""

from __future__ import annotations

import gc
import io
import tracemalloc
import zipfile

from schemas.records import Unknown
from services.engine.analyze import analyze, with_budget
from services.engine.budget import ScanBudget
from services.engine.catalogers.java import parse_java_archive
from services.engine.catalogers.javascript import parse_pnpm_lock
from services.engine.catalogers.meter import Meter
from services.engine.catalogers.python import parse_requirements
from services.engine.catalogers.registry import select
from tests.engine.memimage import Entry, Layer, MemoryImage


async def test_unknowns_past_the_budget_become_one_summary_line() -> None:
    # issue 18: an apk database of garbage lines gave 8.4 million unknowns (1.9 GB of JSON)
    image = MemoryImage([Layer([Entry("lib/apk/db/installed", b"P:ok\nV:1-r0\n\n" + b"junk\n" * 5000)])])
    analysis = await analyze(image, select(), budget=ScanBudget(unknowns_max=50))
    assert [p.name for p in analysis.packages] == ["ok"]
    assert len(analysis.unknowns) == 51
    summary = analysis.unknowns[-1]
    assert summary == Unknown(
        path="/",
        reason="51 more unknowns not listed: scan budget unknowns_max exceeded "
        "(limit 50; setting ASSAY_BUDGET_UNKNOWNS_MAX)",
    )
    assert all(u.path == "/lib/apk/db/installed" for u in analysis.unknowns[:-1])


async def test_a_file_over_the_parsed_file_budget_is_an_unknown_not_parsed() -> None:
    status = b"Package: a\nVersion: 1\n\n" * 100
    image = MemoryImage([Layer([Entry("var/lib/dpkg/status", status)])])
    analysis = await analyze(image, select(), budget=ScanBudget(parsed_file_bytes_max=len(status) - 1))
    assert analysis.packages == []
    (unknown,) = analysis.unknowns
    assert unknown.path == "/var/lib/dpkg/status"
    assert unknown.reason.startswith(f"var/lib/dpkg/status ({len(status)} bytes): scan budget")
    assert "parsed_file_bytes_max" in unknown.reason


def test_budget_and_meter_are_bound_only_to_parsers_that_take_them() -> None:
    budget = ScanBudget(archive_depth_max=1)
    meter = Meter(budget)
    java = with_budget(parse_java_archive.CATALOGER, budget, meter)
    assert java.parse_stream is not None
    assert getattr(java.parse_stream, "keywords", {}) == {"budget": budget, "meter": meter}
    pnpm = with_budget(parse_pnpm_lock.CATALOGER, budget, meter)
    assert getattr(pnpm.parse, "keywords", {}) == {"budget": budget}
    assert with_budget(parse_requirements.CATALOGER, budget) is parse_requirements.CATALOGER


def _fan_jar(count: int) -> bytes:
    """A jar of ``count`` nested "jars" of 1 MiB of zeros each (a few KiB deflated)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(count):
            zf.writestr(f"lib/part{i}-1.0.jar", bytes(1024 * 1024))
    return buf.getvalue()


async def test_nested_archive_expansion_is_one_budget_for_the_whole_image() -> None:
    # three jars of six nested 1 MiB entries: 18 MiB in all against a 10 MiB image budget
    jars = [Entry(f"opt/app{i}/fan-1.0.jar", _fan_jar(6)) for i in range(3)]
    image = MemoryImage([Layer(jars)])
    budget = ScanBudget(archive_expanded_bytes_max=10 * 1024 * 1024)
    analysis = await analyze(image, [parse_java_archive.CATALOGER], budget=budget)
    exhausted = [u for u in analysis.unknowns if "archive_expanded_bytes_max" in u.reason]
    # the first jar inflates 6 MiB, the second runs out at its fifth entry, the third reads none
    assert [u.path for u in exhausted] == ["/opt/app1/fan-1.0.jar", "/opt/app2/fan-1.0.jar"]
    assert exhausted[0].reason.startswith("opt/app1/fan-1.0.jar: lib/part4-1.0.jar: scan budget")
    assert exhausted[1].reason.startswith("opt/app2/fan-1.0.jar: lib/part0-1.0.jar: scan budget")


async def test_distroless_status_d_files_are_not_kept_whole() -> None:
    # issue 18: 4,000 x 1 MiB status.d files took 4.0 GiB: every one was kept in memory for OS
    # detection, which needs only their names. Here 64 x 1 MiB md5sums lists (64 MiB).
    md5sums = b"0123456789abcdef0123456789abcdef  usr/share/doc/p/copyright\n" * 16_500
    entries = []
    for n in range(64):
        entries.append(Entry(f"var/lib/dpkg/status.d/p{n}", b"Package: p%d\nVersion: 1\n" % n))
        entries.append(Entry(f"var/lib/dpkg/status.d/p{n}.md5sums", md5sums))
    image = MemoryImage([Layer(entries)])
    del entries
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        analysis = await analyze(image, select())
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    assert len(analysis.packages) == 64
    assert analysis.image.distro is not None
    assert analysis.image.distro.id == "debian"
    assert peak < 32 * 1024 * 1024  # the lists themselves are 64 MiB
