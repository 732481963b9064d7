"""Go build info from real Go binaries: ELF (linux/amd64), PE (windows/386) and Mach-O (darwin/arm64).

testdata/gobin holds them xz-compressed, built by testdata/gobin/build.sh with Debian 12's go1.19.8
(-trimpath -ldflags='-s -w'): main module example.com/assay/gofixture, golang.org/x/text v0.3.0
replaced by v0.3.8, example.com/greeting replaced by the local ./greeting. syft 1.18.1 reports
exactly the expected packages below for each of them. The pre-Go-1.18 pointer layout and the
universal (fat) Mach-O wrapper are derived from these real binaries in the tests.
"""

from __future__ import annotations

import io
import lzma
import struct
from functools import cache
from pathlib import Path

import pytest

from services.engine.analyze import analyze
from services.engine.catalogers.golang.parse_go_binary import (
    CATALOGER,
    MAGIC,
    go_binary_to_package,
    packages_of,
    parse_go_binary,
    parse_go_binary_stream,
    parse_modinfo,
    read_build_info,
)
from services.engine.executable import read_executables
from tests.engine.memimage import Entry, Layer, MemoryImage

GOBIN = Path(__file__).parent / "testdata" / "gobin"
EXPECTED = {
    ("example.com/assay/gofixture", "(devel)", "pkg:golang/example.com/assay/gofixture@%28devel%29"),
    ("./greeting", "(devel)", "pkg:golang/./greeting@%28devel%29"),  # a local replacement, as syft
    ("golang.org/x/text", "v0.3.8", "pkg:golang/golang.org/x/text@v0.3.8"),  # the replacement's version
    ("stdlib", "go1.19.8", "pkg:golang/stdlib@1.19.8"),
}


@cache
def _binary(name: str) -> bytes:
    return lzma.decompress((GOBIN / f"{name}.xz").read_bytes())


def _packages(path: str, data: bytes) -> set[tuple[str, str, str]]:
    result = parse_go_binary(path, data)
    assert result.problems == []
    return {(p.name, p.version, go_binary_to_package(p, None, "/" + path).purl) for p in result.packages}


@pytest.mark.parametrize(
    ("name", "arch", "goos"),
    [
        ("gofixture-linux-amd64", "amd64", "linux"),
        ("gofixture-windows-386.exe", "386", "windows"),
        ("gofixture-darwin-arm64", "arm64", "darwin"),
    ],
)
def test_elf_pe_and_macho_binaries(name: str, arch: str, goos: str) -> None:
    data = _binary(name)
    assert _packages(f"opt/{name}", data) == EXPECTED
    stdlib = next(p for p in parse_go_binary(name, data).packages if p.name == "stdlib")
    assert stdlib.metadata == {
        "go_toolchain": "go1.19.8",
        "main_module": "example.com/assay/gofixture",
        "architecture": arch,
        "os": goos,
    }


def test_boringcrypto_build_with_a_ver_ldflag() -> None:
    """``GOEXPERIMENT=boringcrypto`` appends `` X:boringcrypto`` to the toolchain version
    (gobin/other/build.sh); the main module's version comes from ``-X '<module>/pkg/version.Ver=v0.50.1'``,
    as Trivy reads it."""
    assert _packages("usr/bin/tool", _binary("tool-boringcrypto-linux-amd64")) == {
        ("github.com/acme/tool", "v0.50.1", "pkg:golang/github.com/acme/tool@v0.50.1"),
        ("stdlib", "go1.19.8", "pkg:golang/stdlib@1.19.8"),
    }
    [stdlib] = [
        p
        for p in parse_go_binary("t", _binary("tool-boringcrypto-linux-amd64")).packages
        if p.name == "stdlib"
    ]
    assert stdlib.metadata["go_toolchain"] == "go1.19.8 X:boringcrypto"


def test_module_less_pe_binary_names_only_its_toolchain() -> None:
    """A GOPATH-mode (``GO111MODULE=off``) windows/amd64 build: ``path command-line-arguments``, no mod."""
    assert _packages("app/nomod.exe", _binary("nomod-windows-amd64.exe")) == {
        ("stdlib", "go1.19.8", "pkg:golang/stdlib@1.19.8")
    }


def test_universal_macho_wrapper() -> None:
    thin = _binary("gofixture-darwin-arm64")
    offset = 0x4000
    header = struct.pack(">II", 0xCAFEBABE, 1) + struct.pack(">iiIII", 0x0100000C, 0, offset, len(thin), 14)
    fat = header + bytes(offset - len(header)) + thin
    assert _packages("usr/local/bin/tool", fat) == EXPECTED


def _as_pre_118(elf: bytes) -> bytes:
    """Rewrite .go.buildinfo in the pre-Go-1.18 layout: pointers to Go string headers.

    The section's own bytes hold the two string headers (at +32, +48) and the strings (from +64),
    exactly as go1.17's linker laid out runtime.buildVersion/runtime.modinfo references.
    """
    [exe] = read_executables(io.BytesIO(elf))
    section = exe.section(".go.buildinfo")
    assert section is not None
    version = b"go1.16.15"
    modinfo = (
        b"0\xf7\x0c\x1e\x85\xab\x1a\xd2\x81\x91\x9c\xc9D\x96\xa2\xfc"  # 16-byte start sentinel
        b"path\texample.com/legacy\nmod\texample.com/legacy\tv1.4.2\th1:abc=\n"
        b"dep\tgithub.com/pkg/errors\tv0.9.1\th1:def=\n"
        b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2"  # 16-byte end sentinel
    )
    body = bytearray(section.size)
    body[:14] = MAGIC
    body[14], body[15] = 8, 0  # pointer size, flags: little endian, not inline
    base = section.addr
    struct.pack_into("<QQ", body, 16, base + 32, base + 48)
    struct.pack_into("<QQ", body, 32, base + 64, len(version))
    struct.pack_into("<QQ", body, 48, base + 64 + len(version), len(modinfo))
    body[64 : 64 + len(version) + len(modinfo)] = version + modinfo
    out = bytearray(elf)
    out[section.offset : section.offset + section.size] = body
    return bytes(out)


def test_pre_go_118_pointer_layout() -> None:
    old = _as_pre_118(_binary("gofixture-linux-amd64"))
    assert _packages("usr/bin/legacy", old) == {
        ("example.com/legacy", "v1.4.2", "pkg:golang/example.com/legacy@v1.4.2"),
        ("github.com/pkg/errors", "v0.9.1", "pkg:golang/github.com/pkg/errors@v0.9.1"),
        ("stdlib", "go1.16.15", "pkg:golang/stdlib@1.16.15"),
    }


def test_non_go_binaries_and_look_alikes_yield_nothing_and_no_problem() -> None:
    no_header = _binary("gofixture-linux-amd64").replace(MAGIC, b"\xff Not buildinf")
    java_class = b"\xca\xfe\xba\xbe\x00\x00\x00\x37" + bytes(200)  # same magic as a universal binary
    for data in (no_header, java_class, b"\x7fELF", b"MZ" + bytes(100), b""):
        result = parse_go_binary("usr/bin/x", data)
        assert result.packages == []
        assert result.problems == []


def test_damaged_build_info_is_a_problem_naming_the_file() -> None:
    data = bytearray(_binary("gofixture-linux-amd64"))
    at = data.find(MAGIC)
    data[at + 32 : at + 42] = b"\xff" * 10  # the version's varint length never ends
    result = parse_go_binary("opt/goapp/app", bytes(data))
    assert result.packages == []
    assert len(result.problems) == 1
    assert result.problems[0].startswith("opt/goapp/app: unreadable Go build info")


def test_only_the_start_of_the_binary_is_needed_beyond_the_headers() -> None:
    """A binary cut after its build info section still reads: the walk never needs the rest."""
    data = _binary("gofixture-linux-amd64")
    at = data.find(MAGIC)
    info = read_build_info(io.BytesIO(data[: at + 4096]))
    assert info is not None
    assert info.go_version == "go1.19.8"


def test_modinfo_text_devel_versions_and_replacements() -> None:
    info = parse_modinfo(
        "go1.22.1",
        "path\texample.com/cmd/tool\nmod\texample.com\t(devel)\t\n"
        "dep\tgolang.org/x/net\tv0.1.0\th1:x=\n=>\tgolang.org/x/net\tv0.23.0\th1:y=\n"
        "dep\tgithub.com/a/b\tv1.0.0\t\n"
        'build\t-ldflags="-s -X main.version=v2.3.4"\nbuild\tvcs.revision=0123456789abcdef\n'
        "build\tvcs.time=2024-03-01T10:20:30Z\n",
    )
    assert info.main is not None
    assert info.main.version == "(devel)"
    assert info.deps[0].replace is not None
    assert info.deps[0].replace.version == "v0.23.0"
    assert info.deps[1].replace is None
    names = {(p.name, p.version) for p in packages_of(info)}
    assert ("example.com", "v2.3.4") in names  # the version given by -ldflags -X, as syft
    assert ("golang.org/x/net", "v0.23.0") in names
    without_ldflags = parse_modinfo(
        "go1.22.1",
        "mod\texample.com\t(devel)\t\nbuild\tvcs.revision=0123456789abcdef\n"
        "build\tvcs.time=2024-03-01T10:20:30Z\n",
    )
    assert packages_of(without_ldflags)[0].version == "v0.0.0-20240301102030-0123456789ab"


async def test_through_the_walk_only_executables_are_read() -> None:
    elf = _binary("gofixture-linux-amd64")
    image = MemoryImage(
        [
            Layer(
                [
                    Entry("opt/goapp/app", elf, mode=0o755),
                    Entry("opt/goapp/app.copy", elf, mode=0o644),  # not executable: not read
                    Entry("usr/bin/script", b"#!/bin/sh\necho hi\n", mode=0o755),
                ]
            )
        ],
        chunk=1 << 20,
    )
    result = await analyze(image, [CATALOGER])
    assert result.unknowns == []
    assert {(p.name, p.version, p.locations[0], p.found_by) for p in result.packages} == {
        (name, version, "/opt/goapp/app", "go-module-binary") for name, version, _ in EXPECTED
    }


def test_stream_and_bytes_parsers_agree() -> None:
    data = _binary("gofixture-windows-386.exe")
    assert parse_go_binary_stream("a.exe", io.BytesIO(data)) == parse_go_binary("a.exe", data)
