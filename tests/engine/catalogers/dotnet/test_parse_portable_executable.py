""".NET assemblies named and versioned by their version resource (syft's PE cataloger).

No .NET SDK or mcs here: ``pe_fixtures.py`` writes minimal valid PE32/PE32+ files (CLI header, ``.rsrc``
tree, ``VS_VERSIONINFO``) carrying the version strings of syft's own test cases. syft 1.18.1 reads
them and reports the same name and version for each assembly (``syft scan dir:testdata
--override-default-catalogers dotnet-portable-executable-cataloger``); it differs where later syft
changed the rules, which Assay follows: native PE files (no CLR) are not reported, a `` (netX)`` suffix
leaves the name, a file without version strings is named after the file, and a missing FileVersion
comes from the fixed file info. ``testdata/opt/launcher/w32.exe.xz`` is a real native PE built by
MSVC (pip's vendored distlib launcher, PSF licence), whose version resource ``rc`` wrote.
"""

from __future__ import annotations

import io
import lzma
from pathlib import Path

import pytest

from services.engine.catalogers.dotnet.govers import compare_go_versions
from services.engine.catalogers.dotnet.package import nuget_to_package
from services.engine.catalogers.dotnet.parse_portable_executable import (
    CATALOGER,
    extract_version,
    find_name,
    find_version,
    parse_portable_executable,
    parse_portable_executable_stream,
    space_normalize,
)
from services.engine.catalogers.dotnet.pe_version import read_pe_version
from tests.engine.catalogers.dotnet.pe_fixtures import CURL, assembly, build_pe, fixtures, version_info

HERE = Path(__file__).parent
FILES = sorted(
    p.relative_to(HERE).as_posix() for p in HERE.glob("testdata*/**/*") if p.suffix in (".dll", ".exe")
)


def _parse(rel: str):
    return parse_portable_executable(rel, (HERE / rel).read_bytes())


def test_fixtures_are_what_the_generator_writes() -> None:
    expected = fixtures()
    assert sorted(expected) == FILES
    assert all((HERE / rel).read_bytes() == data for rel, data in expected.items())


@pytest.mark.parametrize(
    ("rel", "name", "version", "purl"),
    [
        # no ProductName or FileDescription: InternalName
        (
            "testdata/app/Prometheus.AspNetCore.dll",
            "Prometheus.AspNetCore.dll",
            "8.0.1",
            "pkg:nuget/Prometheus.AspNetCore.dll@8.0.1",
        ),
        # ProductVersion is a commit hash: the FileVersion, cut before the trailing junk word
        (
            "testdata/app/Microsoft.IdentityModel.Clients.ActiveDirectory.Platform.dll",
            "Active Directory Authentication Library",
            "3.14.40721.0918",
            "pkg:nuget/Active%20Directory%20Authentication%20Library@3.14.40721.0918",
        ),
        # Microsoft's: FileDescription, not the broad ProductName; PE32+
        (
            "testdata/app/System.Data.Linq.dll",
            "System.Data.Linq.dll",
            "4.7.3190.0",
            "pkg:nuget/System.Data.Linq.dll@4.7.3190.0",
        ),
        # the runtime suffix leaves the name; FileVersion 2.14.1.48190 > ProductVersion 2.14.1+hash
        ("testdata/app/Humanizer.dll", "Humanizer", "2.14.1.48190", "pkg:nuget/Humanizer@2.14.1.48190"),
        # no FileVersion string: VS_FIXEDFILEINFO's
        ("testdata/app/Fixed.Only.dll", "Fixed.Only", "5.2.0.7", "pkg:nuget/Fixed.Only@5.2.0.7"),
        # no version resource at all: the file name
        ("testdata/app/Legacy.Interop.dll", "Legacy.Interop", "", "pkg:nuget/Legacy.Interop"),
        # native, but the runtime itself (CLRDEBUGINFO resource)
        (
            "testdata/dotnet/shared/Microsoft.NETCore.App/8.0.8/coreclr.dll",
            ".NET Runtime",
            "8.0.824.36612",
            "pkg:nuget/.NET%20Runtime@8.0.824.36612",
        ),
    ],
)
def test_assemblies(rel: str, name: str, version: str, purl: str) -> None:
    result = _parse(rel)
    assert result.problems == []
    assert [(p.name, p.version) for p in result.packages] == [(name, version)]
    pkg = nuget_to_package(result.packages[0], None, "/" + rel)
    assert (pkg.type, pkg.purl, pkg.declared) == ("nuget", purl, False)


def test_metadata_keeps_the_version_strings_and_runtime() -> None:
    (prometheus,) = _parse("testdata/app/Prometheus.AspNetCore.dll").packages
    assert prometheus.metadata == {
        "assembly_version": "8.0.0.0",
        "file_version": "8.0.1",
        "internal_name": "Prometheus.AspNetCore.dll",
        "original_filename": "Prometheus.AspNetCore.dll",
        "product_version": "8.0.1",
    }
    (humanizer,) = _parse("testdata/app/Humanizer.dll").packages
    assert humanizer.metadata["runtime"] == "netstandard2.0"
    assert humanizer.metadata["product_name"] == "Humanizer (netstandard2.0)"


def test_native_pe_files_are_not_packages() -> None:
    assert _parse("testdata/app/curl.exe").packages == []
    real = lzma.decompress((HERE / "testdata/opt/launcher/w32.exe.xz").read_bytes())
    result = parse_portable_executable("opt/launcher/w32.exe", real)
    assert (result.packages, result.problems) == ([], [])
    # its version resource (written by rc.exe) is read all the same
    info = read_pe_version(lambda offset, size: real[offset : offset + size])
    assert not isinstance(info, Exception)
    assert info.clr is False
    assert info.fixed_file_version == "1.1.0.14"
    assert info.strings["ProductName"] == "Simple Launcher"
    assert info.strings["OriginalFilename"] == "w32.exe"
    # the same strings in an assembly are a package
    (pkg,) = parse_portable_executable("w.dll", assembly(info.strings)).packages
    assert (pkg.name, pkg.version) == ("Simple Launcher", "1.1.0.14")


@pytest.mark.parametrize("rel", FILES)
def test_stream_reads_as_bytes(rel: str) -> None:
    data = (HERE / rel).read_bytes()
    assert parse_portable_executable_stream(rel, io.BytesIO(data)) == parse_portable_executable(rel, data)


@pytest.mark.parametrize(
    ("rel", "packages", "reason"),
    [
        (
            "testdata-corrupt/app/Truncated.dll",
            [],
            "not a readable PE file: file ends inside the section table",
        ),
        (
            "testdata-corrupt/app/NoPeHeader.dll",
            [],
            "not a readable PE file: file ends inside the PE signature",
        ),
        (
            "testdata-corrupt/app/Loop.dll",
            [("Loop", "")],
            "version resource partly unreadable: resource directory",
        ),
        ("testdata-corrupt/app/Oversized.dll", [("Oversized", "")], "runs past its section's data"),
    ],
)
def test_corrupt_files_are_problems_naming_file_and_reason(
    rel: str, packages: list[tuple[str, str]], reason: str
) -> None:
    result = _parse(rel)
    assert [(p.name, p.version) for p in result.packages] == packages  # the CLI header still says .NET
    assert len(result.problems) == 1
    assert result.problems[0].startswith(f"{rel}: ")
    assert reason in result.problems[0]


def test_a_resource_type_directory_naming_a_string_is_read() -> None:
    data = build_pe({("MUI", 1, 0): b"\0" * 8, (16, "VERSION", 1033): version_info({"ProductName": "Named"})})
    assert [(p.name, p.version) for p in parse_portable_executable("x.dll", data).packages] == [
        ("Named", "1.0.0.0")
    ]


# syft's TestParseDotnetPortableExecutable table (and two of its image tests): strings -> (name, version)
# fmt: off
SYFT_CASES = [
    (CURL, "The curl executable", "8.4.0"),
    ({"FileDescription": "Reads from stdin without leaking info to the terminal and outputs back to stdout",
      "FileVersion": "1, 0, 0, 0", "InternalName": "hiddeninput", "LegalCopyright": "Jordi Boggiano - 2012",
      "OriginalFilename": "hiddeninput.exe", "ProductName": "Hidden Input", "ProductVersion": "1, 0, 0, 0"},
     "Hidden Input", "1, 0, 0, 0"),
    ({"CompanyName": "SQLite Development Team", "FileDescription": "SQLite is a software library",
      "FileVersion": "3.23.2", "InternalName": "sqlite3", "ProductName": "SQLite",
      "ProductVersion": "3.23.2"},
     "SQLite", "3.23.2"),
    ({"CompanyName": "Brave Software, Inc.", "FileDescription": "Brave Browser", "FileVersion": "80.1.7.92",
      "InternalName": "chrome_exe", "OriginalFilename": "chrome.exe", "ProductName": "Brave Browser",
      "ProductVersion": "80.1.7.92"}, "Brave Browser", "80.1.7.92"),
    ({"CompanyName": "Microsoft Corporation", "FileDescription": "äbFileVersi on",
      "FileVersion": "4.6.25512.01 built by: dlab-DDVSOWINAGE016. Commit Hash: d0d5c7b4",
      "InternalName": "äb\x01FileVersion", "ProductName": "Microsoft® .NET Framework",
      "ProductVersion": "4.6.25512.01 built by: dlab-DDVSOWINAGE016. Commit Hash: d0d5c7b4"},
     "äbFileVersi on", "4.6.25512.01"),
    ({"FileDescription": "Better version", "FileVersion": "80.1.7", "ProductVersion": "80.1.7.92"},
     "Better version", "80.1.7.92"),
    ({"FileDescription": "Better version", "FileVersion": "80.1.7.92", "ProductVersion": "80.1.7"},
     "Better version", "80.1.7.92"),
    ({"FileDescription": "Higher product", "FileVersion": "3.0.0.0",
      "ProductVersion": "3.0.1+b86b61bf676163639795b163d8d753b20aad6207"},
     "Higher product", "3.0.1+b86b61bf676163639795b163d8d753b20aad6207"),
    ({"FileDescription": "Higher file", "FileVersion": "3.0.1+b86b61bf676163639795b163d8d753b20aad6207",
      "ProductVersion": "3.0.0"}, "Higher file", "3.0.1+b86b61bf676163639795b163d8d753b20aad6207"),
    ({"FileDescription": "Invalid file", "FileVersion": "A", "ProductVersion": "3.0.1+b86b61bf"},
     "Invalid file", "3.0.1+b86b61bf"),
    ({"FileDescription": "Invalid product", "FileVersion": "3.0.1+b86b61bf", "ProductVersion": "A"},
     "Invalid product", "3.0.1+b86b61bf"),
    ({"FileDescription": "Equal falls through", "FileVersion": "3.0.0.0", "ProductVersion": "3.0.0"},
     "Equal falls through", "3.0.0.0"),
    # syft's image-net8-app expectations (TestDotnetDepsCataloger): the PE-only packages
    ({"CompanyName": "Newtonsoft", "ProductName": "Json.NET", "FileVersion": "13.0.3.27908",
      "ProductVersion": "13.0.3+0a2e291c0d9c0c7675d445703e51750363a549ef",
      "InternalName": "Newtonsoft.Json.dll", "Assembly Version": "13.0.0.0"}, "Json.NET", "13.0.3.27908"),
    ({"CompanyName": "dotnetapp", "ProductName": "dotnetapp", "FileVersion": "1.0.0.0",
      "ProductVersion": "1.0.0", "InternalName": "dotnetapp.dll", "Assembly Version": "1.0.0.0"},
     "dotnetapp", "1.0.0.0"),
]
# fmt: on


@pytest.mark.parametrize(
    ("strings", "name", "version"), SYFT_CASES, ids=[c[1] + " " + c[2] for c in SYFT_CASES]
)
def test_syft_name_and_version_rules_in_real_files(strings: dict[str, str], name: str, version: str) -> None:
    assert (find_name(strings)[0], find_version(strings)) == (name, version)
    (pkg,) = parse_portable_executable("lib/x.dll", assembly(strings)).packages
    assert (pkg.name, pkg.version) == (name, version)


def test_purl_percent_encodes_as_syft() -> None:
    (raw,) = parse_portable_executable(
        "x.dll",
        assembly(
            {"FileDescription": "äbFileVersi on", "CompanyName": "Microsoft", "FileVersion": "4.6.25512.01"}
        ),
    ).packages
    assert nuget_to_package(raw, None, "/x.dll").purl == "pkg:nuget/%C3%A4bFileVersi%20on@4.6.25512.01"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1, 0, 0, 0", "1, 0, 0, 0"),
        ("Release 73", "Release 73"),
        ("4.7.4076.0 built by: NET472REL1LAST_B", "4.7.4076.0"),
    ],
)
def test_extract_version(raw: str, expected: str) -> None:
    assert extract_version(raw) == expected


def test_space_normalize() -> None:
    assert space_normalize(" some \tspaces\n\t\t \n\rapart\n") == "some spaces apart"
    assert space_normalize("\rsöme \u0001¡nvalid\t characters\n") == "söme ¡nvalid characters"
    assert space_normalize("a\xa0\xa0b") == "a b"


@pytest.mark.parametrize(
    ("a", "b", "order"),
    [
        ("3.0.0.0", "3.0.0", 0),
        ("3.0.1+abc", "3.0.0", 1),
        ("1.0.0-rc.1", "1.0.0", -1),
        ("1.0beta", "1.0alpha", 1),
        ("1.0.0-rc.2", "1.0.0-rc.10", -1),
        ("v2.10", "2.9", 1),
        ("1, 0", "1.0", None),
        ("c61f0436", "1", None),
    ],
)
def test_go_version_order(a: str, b: str, order: int | None) -> None:
    assert compare_go_versions(a, b) == order


def test_cataloger_request() -> None:
    assert CATALOGER.request.patterns == ("**/*.dll", "**/*.exe")
    assert CATALOGER.request.magic == (b"MZ",)
    assert CATALOGER.request.spool
    assert CATALOGER.parse_stream is parse_portable_executable_stream


def test_a_hostile_entry_count_is_refused_before_its_table_is_read() -> None:
    data = bytearray((HERE / "testdata/app/Humanizer.dll").read_bytes())
    data[0x400 + 14 : 0x400 + 16] = b"\xff\xff"  # the root directory claims 65535 id entries
    result = parse_portable_executable("app/Humanizer.dll", bytes(data))
    assert [p.name for p in result.packages] == ["Humanizer"]  # from the file name: no strings were read
    assert result.problems == [
        "app/Humanizer.dll: version resource partly unreadable: more than 4096 resource directory entries"
    ]
