"""Python, .NET, Rust (and the Ruby lockfile) in the Debian fixture image, with syft 1.18.1 as the peer.

The image scan (``assay scan oci:…``) runs the installed-package catalogers: Python metadata
and .NET ``*.deps.json``. Lockfiles are "declared" catalogers that, as in syft, only run on
directory scans by default; their packages are checked by walking the same image in process
with the declared catalogers selected.
"""

from __future__ import annotations

import asyncio
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from schemas.records import PackageRecord
from services.engine.analyze import analyze
from services.engine.catalogers.registry import select
from services.engine.image.targets import parse_target
from tests.harness.requirements import require
from tests.harness.syft import syft_packages
from tests.realworld.scan import assay_scan

pytestmark = pytest.mark.realworld

# the names of the syft 1.18.1 catalogers whose formats Assay's catalogers here cover
SYFT_CATALOGERS = (
    "+python-package-cataloger",
    "+dotnet-deps-cataloger",
    "+rust-cargo-lock-cataloger",
    "+go-module-file-cataloger",
)


@cache
def _report(fixtures: Path) -> dict[str, Any]:
    code, report, stderr = assay_scan(f"oci:{fixtures}/oci/debian", db=None)
    assert code == 0, stderr
    return report


@cache
def _declared(fixtures: Path) -> tuple[PackageRecord, ...]:
    async def walk() -> tuple[PackageRecord, ...]:
        image = await parse_target(f"oci:{fixtures}/oci/debian").open()
        async with image:
            analysis = await analyze(image, select(("declared",)))
        assert [u for u in analysis.unknowns if "/opt/" in u.path] == []
        return tuple(analysis.packages)

    return asyncio.run(walk())


def _require_lockfile_fixtures(fixtures: Path) -> None:
    manifest = (fixtures / "manifest.json").read_text()
    require(
        "dotnetapp/App.deps.json" in manifest, f"{fixtures} predates the .NET/Ruby/Rust additions: rebuild"
    )


def test_installed_python_packages_under_opt_pyapp(fixtures: Path) -> None:
    python = {p["name"]: p for p in _report(fixtures)["packages"] if p["type"] == "pypi"}
    want = {"Django": "3.2", "requests": "2.19.0", "urllib3": "1.23", "PyYAML": "5.3"}
    assert {n: python[n]["version"] for n in want} == want  # Django==3.2.0 installs metadata Version 3.2
    for name in want:
        assert not python[name].get("declared", False)  # the JSON report omits default values
        [location] = python[name]["locations"]
        assert location.startswith("/opt/pyapp/site-packages/")
        assert location.endswith(".dist-info/METADATA")
    assert python["PyYAML"]["purl"] == "pkg:pypi/pyyaml@5.3"
    assert python["requests"]["licenses"] == ["Apache 2.0"]
    assert "Jinja2" not in python  # deleted by layer 4's whiteouts


def test_python_purls_equal_syfts(fixtures: Path) -> None:
    ours = {p["purl"] for p in _report(fixtures)["packages"] if p["type"] == "pypi"}
    theirs = {p.purl for p in syft_packages(f"oci-dir:{fixtures}/oci/debian") if p.type == "python"}
    assert len(theirs) >= 8
    assert ours == theirs


def test_dotnet_deps_json_in_the_image_scan(fixtures: Path) -> None:
    _require_lockfile_fixtures(fixtures)
    nuget = {p["purl"]: p for p in _report(fixtures)["packages"] if p["type"] == "nuget"}
    assert set(nuget) == {
        "pkg:nuget/App@1.0.0",
        "pkg:nuget/Newtonsoft.Json@12.0.1",
        "pkg:nuget/System.Text.Encodings.Web@4.3.0",
        "pkg:nuget/System.Private.Uri@4.3.0",
    }
    # App/1.0.0 is the "project" library, the application itself: reported as its root, as syft does
    assert nuget["pkg:nuget/App@1.0.0"]["metadata"]["role"] == "root"
    assert {p["locations"][0] for p in nuget.values()} == {"/opt/dotnetapp/App.deps.json"}
    layers = _report(fixtures)["image"]["layers"]
    assert {p["layer_digest"] for p in nuget.values()} == {layers[2]["digest"]}


def test_declared_lockfile_packages(fixtures: Path) -> None:
    _require_lockfile_fixtures(fixtures)
    found = {(p.type, p.name, p.version, p.locations[0]) for p in _declared(fixtures)}
    assert {
        ("cargo", "smallvec", "0.6.9", "/opt/rustapp/Cargo.lock"),
        ("cargo", "maybe-uninit", "2.0.0", "/opt/rustapp/Cargo.lock"),
        ("gem", "rack", "2.0.8", "/opt/rubyapp/Gemfile.lock"),
        ("gem", "nokogiri", "1.10.4", "/opt/rubyapp/Gemfile.lock"),
        ("pypi", "Django", "3.2.0", "/opt/pyapp/requirements.txt"),
        ("pypi", "requests", "2.19.0", "/opt/pyapp/requirements.txt"),
        ("pypi", "PyYAML", "5.3", "/opt/pyapp/requirements.txt"),
    } <= found
    # the workspace's own crate, reported as syft reports it
    assert ("cargo", "rustapp", "0.1.0", "/opt/rustapp/Cargo.lock") in found
    assert all(p.declared for p in _declared(fixtures))


def test_declared_cargo_and_python_purls_equal_syfts_directory_catalogers(fixtures: Path) -> None:
    """syft run on the image with its declared catalogers added, compared on the same paths."""
    _require_lockfile_fixtures(fixtures)
    syft = syft_packages(
        f"oci-dir:{fixtures}/oci/debian", args=("--select-catalogers", ",".join(SYFT_CATALOGERS))
    )
    for ours_type, syft_type, path in (
        ("cargo", "rust-crate", "/opt/rustapp/Cargo.lock"),
        ("pypi", "python", "/opt/pyapp/requirements.txt"),
    ):
        ours = {p.purl for p in _declared(fixtures) if p.type == ours_type and p.locations == [path]}
        theirs = {p.purl for p in syft if p.type == syft_type and path in p.paths}
        assert ours == theirs, (ours_type, ours ^ theirs)  # the workspace's root crate too
