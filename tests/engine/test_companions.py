"""Companion files: a cataloger reads files beside its database through the walk's requests.

Any cataloger may declare them (no ecosystem is special in the analysis): here a small
line-based database (``var/lib/toy/db``: ``NAME VERSION`` lines) with one file list and one
license file per package, walked from real tar layers.
"""

from __future__ import annotations

from collections.abc import Iterator

from schemas.records import Distro, PackageRecord
from services.engine.analyze import analyze
from services.engine.budget import ScanBudget
from services.engine.catalogers.interface import Cataloger, Companion, ParseResult, RawPackage
from services.engine.catalogers.registry import select
from services.engine.requests import FileRequest
from tests.engine.memimage import Entry, Layer, MemoryImage


def _parse(path: str, data: bytes) -> ParseResult:
    packages = [
        RawPackage(name=n, version=v) for n, v in (line.split() for line in data.decode().splitlines())
    ]
    return ParseResult(packages=packages)


def _to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    purl = f"pkg:rpm/toy/{raw.name}@{raw.version}"
    return PackageRecord(name=raw.name, version=raw.version, type="rpm", purl=purl, locations=[location])


def _owned(path: str, data: bytes) -> Iterator[str]:
    return (line.lstrip("/") for line in data.decode().splitlines() if line.strip())


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1].split(".", 1)[0]


TOY = Cataloger(
    name="toy-db",
    package_type="rpm",
    request=FileRequest(name="toy-db", patterns=("var/lib/toy/db",)),
    parse=_parse,
    to_package=_to_package,
    companions=(
        Companion(
            request=FileRequest(name="toy-lists", patterns=("var/lib/toy/*.files",)),
            package=_name,
            files=_owned,
        ),
        Companion(
            request=FileRequest(name="toy-licenses", patterns=("var/lib/toy/*.license",)),
            package=_name,
            licenses=lambda data: data.decode().split(),
        ),
    ),
)

SITE = "usr/lib/python3/dist-packages/requests-2.28.1.dist-info"
BASE = [
    Entry("etc/os-release", b"ID=toy\nVERSION_ID=1\n"),
    Entry("var/lib/toy/db", b"python3-requests 2.28.1-1\nzlib 1.3-1\n"),
    Entry("var/lib/toy/python3-requests.files", f"/{SITE}/METADATA\n/{SITE}/RECORD\n".encode()),
    Entry("var/lib/toy/zlib.license", b"Zlib"),
    Entry(f"{SITE}/METADATA", b"Metadata-Version: 2.1\nName: requests\nVersion: 2.28.1\n"),
]


async def test_companions_give_licenses_and_ownership_to_the_catalogers_packages() -> None:
    image = MemoryImage([Layer(BASE)])
    analysis = await analyze(image, [TOY, *select(("image",))])
    by_name = {p.name: p for p in analysis.packages}
    assert by_name["zlib"].licenses == ["Zlib"]
    assert by_name["python3-requests"].licenses == []
    assert by_name["requests"].owner == "pkg:rpm/toy/python3-requests@2.28.1-1"


async def test_without_the_cataloger_its_companions_are_not_read() -> None:
    image = MemoryImage([Layer(BASE)])
    analysis = await analyze(image, select(("image",)))
    assert "requests" in {p.name for p in analysis.packages}
    assert all(not p.owner for p in analysis.packages)


async def test_a_file_list_over_the_parsed_file_budget_is_an_unknown_naming_it() -> None:
    big = Entry("var/lib/toy/python3-requests.files", b"/usr/lib/x\n" * 200)
    image = MemoryImage([Layer([*BASE[:2], big])])
    analysis = await analyze(image, [TOY], budget=ScanBudget(parsed_file_bytes_max=1000))
    [unknown] = [u for u in analysis.unknowns if u.path.endswith(".files")]
    assert unknown.path == "/var/lib/toy/python3-requests.files"
    assert "parsed_file_bytes_max" in unknown.reason
