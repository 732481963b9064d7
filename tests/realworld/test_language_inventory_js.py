"""npm, gem and Composer inventory of the Debian fixture image, with syft 1.18.1 as the peer.

The image (tests/fixtures/build-images.sh) has Debian's nodejs and ruby (node modules under
``/usr/share/nodejs``, Ruby's default and bundled gems, Debian's rubygems-integration gems),
``npm install`` of lodash 4.17.15 and minimist 1.2.0 in ``/opt/nodeapp`` (layer 3), and
handlebars 4.0.11 in ``/opt/legacy`` (layer 3), which layer 5's opaque directory hides.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.harness.syft import syft_packages
from tests.realworld.scan import assay_scan

pytestmark = pytest.mark.realworld

_TYPES = {"npm": "npm", "gem": "gem", "php-composer": "composer"}  # syft's type -> ours

# syft reads every **/package.json with a name and a version; Assay reads only package roots
# (node_modules/<name>, usr/share/nodejs/<name>). This one is the VS Code extension manifest
# shipped inside the typeprof gem's source tree, not an installed npm package.
SYFT_ONLY = {
    (
        "npm",
        "pkg:npm/ruby-typeprof@0.20.1",
        "/usr/lib/ruby/gems/3.1.0/gems/typeprof-0.21.2/vscode/package.json",
    )
}


@pytest.fixture(scope="module")
def report(fixtures: Path) -> dict[str, Any]:
    code, doc, stderr = assay_scan(f"oci:{fixtures}/oci/debian", db=None)
    assert code == 0, stderr
    return doc


def _language(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Installed npm, gem and Composer packages (declared lockfile entries are compared elsewhere)."""
    return [p for p in report["packages"] if p["type"] in _TYPES.values() and not p.get("declared")]


def test_npm_packages_installed_in_opt_nodeapp_with_their_layer(report: dict[str, Any]) -> None:
    layers = report["image"]["layers"]
    found = {(p["name"], p["version"]): p for p in _language(report) if p["locations"][0].startswith("/opt/")}
    assert set(found) == {("lodash", "4.17.15"), ("minimist", "1.2.0")}
    for (name, version), pkg in found.items():
        assert pkg["purl"] == f"pkg:npm/{name}@{version}"
        assert pkg["locations"] == [f"/opt/nodeapp/node_modules/{name}/package.json"]
        assert pkg["layer_digest"] == layers[2]["digest"]
        assert "npm install" in pkg["layer_created_by"]
        assert pkg["licenses"] == ["MIT"]
        assert not pkg.get("declared", False)


def test_packages_under_an_opaque_directory_are_absent(report: dict[str, Any]) -> None:
    npm = {p["name"] for p in _language(report) if p["type"] == "npm"}
    assert "handlebars" not in npm
    assert not any("/opt/legacy/" in loc for p in report["packages"] for loc in p["locations"])


def test_debian_node_modules_and_default_gems(report: dict[str, Any]) -> None:
    by_purl = {p["purl"]: p for p in _language(report)}
    types_busboy = by_purl["pkg:npm/%40types/busboy@1.5.0"]
    assert types_busboy["name"] == "@types/busboy"
    assert types_busboy["locations"] == ["/usr/share/nodejs/@types/busboy/package.json"]
    abbrev = by_purl["pkg:gem/abbrev@0.1.0"]
    assert abbrev["locations"] == ["/usr/lib/ruby/gems/3.1.0/specifications/default/abbrev-0.1.0.gemspec"]
    assert sorted(abbrev["licenses"]) == ["BSD-2-Clause", "Ruby"]
    assert report["unknowns"] == []


def test_language_inventory_equals_syft_apart_from_non_root_manifests(
    fixtures: Path, report: dict[str, Any]
) -> None:
    peer = {
        (_TYPES[p.type], p.purl, path)
        for p in syft_packages(f"oci-dir:{fixtures}/oci/debian")
        if p.type in _TYPES
        for path in p.paths
    }
    ours = {(p["type"], p["purl"], loc) for p in _language(report) for loc in p["locations"]}
    assert len(ours) > 100
    assert ours == peer - SYFT_ONLY
    assert peer >= SYFT_ONLY  # the explained difference is still there (else drop it)
    # lockfiles inside installed packages (typeprof's Gemfile.lock) say nothing about the image,
    # and /opt/nodeapp/package-lock.json names only packages that are installed: none is declared
    declared = {loc for p in report["packages"] if p.get("declared") for loc in p["locations"]}
    assert not any(loc.startswith(("/usr/", "/opt/nodeapp/")) for loc in declared), declared
