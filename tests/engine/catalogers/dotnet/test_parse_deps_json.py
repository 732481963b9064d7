"""``*.deps.json``. No .NET SDK on this machine: ``testdata/app/App.deps.json`` is written in the
layout ``dotnet publish`` emits for a framework-dependent netcoreapp3.1 app (runtimeTarget,
targets, libraries with ``project``/``package`` types, path and hashPath); the sha512 values
have the real shape but are not the packages' hashes."""

import json
from pathlib import Path

from services.engine.catalogers.dotnet.package import nuget_to_package
from services.engine.catalogers.dotnet.parse_deps_json import parse_deps_json

HERE = Path(__file__).parent


def _parse(rel: str):
    return parse_deps_json(rel, (HERE / rel).read_bytes())


def test_package_libraries_of_the_runtime_target() -> None:
    result = _parse("testdata/app/App.deps.json")
    assert result.problems == []
    assert sorted((p.name, p.version) for p in result.packages) == [
        ("App", "1.0.0"),  # the "project" the file is named after: the application itself
        ("Newtonsoft.Json", "12.0.1"),
        ("System.Private.Uri", "4.3.0"),
        ("System.Text.Encodings.Web", "4.3.0"),
    ]  # Fixture.Shared is a referenced "project": the application's own code
    assert [p.metadata for p in result.packages if p.name == "App"] == [{"role": "root"}]
    nj = next(p for p in result.packages if p.name == "Newtonsoft.Json")
    assert nj.metadata["path"] == "newtonsoft.json/12.0.1"
    assert nj.metadata["runtime_target"] == ".NETCoreApp,Version=v3.1"
    assert nj.metadata["sha512"].startswith("sha512-")
    assert nj.declared is False
    pkg = nuget_to_package(nj, None, "/app/App.deps.json")
    assert (pkg.type, pkg.purl, pkg.locations) == (
        "nuget",
        "pkg:nuget/Newtonsoft.Json@12.0.1",
        ["/app/App.deps.json"],
    )


def test_libraries_outside_the_runtime_target_are_left_out() -> None:
    doc = {
        "runtimeTarget": {"name": "T/linux-x64"},
        "targets": {"T": {"A/1.0": {}, "B/2.0": {}}, "T/linux-x64": {"A/1.0": {}}},
        "libraries": {"A/1.0": {"type": "package"}, "B/2.0": {"type": "package"}},
    }
    result = parse_deps_json("x.deps.json", json.dumps(doc).encode())
    assert [(p.name, p.version) for p in result.packages] == [("A", "1.0")]


def test_without_targets_every_package_library_counts_and_bad_keys_are_problems() -> None:
    doc = {"libraries": {"A/1.0": {"type": "package"}, "NoVersion": {"type": "package"}}}
    result = parse_deps_json("y.deps.json", b"\xef\xbb\xbf" + json.dumps(doc).encode())  # with a BOM
    assert [(p.name, p.version) for p in result.packages] == [("A", "1.0")]
    assert result.problems == ["y.deps.json: library 'NoVersion' is not 'Name/Version'"]


def test_truncated_file_is_a_problem() -> None:
    rel = "testdata-corrupt/app/Broken.deps.json"
    result = _parse(rel)
    assert result.packages == []
    assert result.problems[0].startswith(f"{rel}: not valid JSON:")
    assert parse_deps_json("z.deps.json", b"[]").problems == [
        "z.deps.json: no 'libraries' object: not a .NET deps.json"
    ]
