"""cargo-auditable binaries: the ``.dep-v0`` section.

cargo-auditable is not installed on the build machine (building it and a crate graph needs
crates.io), so testdata/auditable/hello-auditable.xz is a real Rust
binary (rustc 1.95, testdata/auditable/hello.rs, ``-C opt-level=z -C strip=symbols``) to which
``objcopy --add-section .dep-v0=...`` added a real-format section: testdata/auditable/dep-v0.json
zlib-compressed, in cargo-auditable's schema (a ``build``-kind crate, a ``local`` root, ``git``).
"""

from __future__ import annotations

import io
import json
import lzma
import zlib
from functools import cache
from pathlib import Path

from services.engine.catalogers.rust.parse_cargo_auditable import (
    CATALOGER,
    parse_cargo_auditable,
    parse_cargo_auditable_stream,
)
from services.engine.executable import read_executables

HERE = Path(__file__).parent / "testdata" / "auditable"


@cache
def _binary() -> bytes:
    return lzma.decompress((HERE / "hello-auditable.xz").read_bytes())


def _replace_section(data: bytes, payload: bytes) -> bytes:
    [exe] = read_executables(io.BytesIO(data))
    section = exe.section(".dep-v0")
    assert section is not None
    assert len(payload) <= section.size
    out = bytearray(data)
    out[section.offset : section.offset + section.size] = payload.ljust(section.size, b"\0")
    return bytes(out)


def test_runtime_crates_of_an_auditable_binary() -> None:
    result = parse_cargo_auditable("usr/local/bin/hello", _binary())
    assert result.problems == []
    expected = {
        (p["name"], p["version"], p["source"])
        for p in json.loads((HERE / "dep-v0.json").read_text())["packages"]
        if p.get("kind", "runtime") == "runtime"
    }
    assert ("cc", "1.0.83", "crates.io") not in expected  # a build dependency, as syft leaves it out
    assert {(p.name, p.version, p.metadata["source"]) for p in result.packages} == expected
    adler = next(p for p in result.packages if p.name == "adler")
    pkg = CATALOGER.to_package(adler, None, "/usr/local/bin/hello")
    assert pkg.purl == "pkg:cargo/adler@1.0.2"
    assert pkg.type == "cargo"


def test_pe_binary() -> None:
    """hello-auditable.exe.xz: the same binary as a PE32+ image (binutils 2.40 ``objcopy -O pei-x86-64``),
    the layout a windows-gnu toolchain links; its ``.dep-v0`` section is found by the PE section table."""
    data = lzma.decompress((HERE / "hello-auditable.exe.xz").read_bytes())
    [exe] = read_executables(io.BytesIO(data))
    assert exe.format == "pe"
    pe = parse_cargo_auditable("app/hello.exe", data)
    elf = parse_cargo_auditable("usr/local/bin/hello", _binary())
    assert pe.problems == []
    assert [p.key() for p in pe.packages] == [p.key() for p in elf.packages]
    assert ("auditable-fixture", "0.1.0") in {
        p.key() for p in pe.packages
    }  # the root crate, as Trivy lists it


def test_binaries_without_the_section_yield_nothing() -> None:
    stripped = _binary().replace(b".dep-v0", b".dep-xx")  # the section's name in the string table
    for data in (stripped, b"\x7fELF" + bytes(60), b"MZ"):
        result = parse_cargo_auditable("usr/bin/x", data)
        assert result.packages == []
        assert result.problems == []


def test_damaged_sections_are_problems_naming_the_file() -> None:
    not_zlib = _replace_section(_binary(), b"this is not zlib")
    result = parse_cargo_auditable("usr/local/bin/hello", not_zlib)
    assert result.packages == []
    assert result.problems[0].startswith("usr/local/bin/hello: .dep-v0 is not zlib data")

    wrong_json = _replace_section(_binary(), zlib.compress(b'{"packages": [{"name": 1}]}'))
    result = parse_cargo_auditable("usr/local/bin/hello", wrong_json)
    assert result.packages == []
    assert "is not cargo-auditable JSON" in result.problems[0]


def test_stream_and_bytes_parsers_agree() -> None:
    data = _binary()
    assert parse_cargo_auditable_stream("h", io.BytesIO(data)) == parse_cargo_auditable("h", data)
