"""Installed npm packages: real package.json files copied from the Debian fixture image.

``usr/share/nodejs/...`` come from Debian 12's node-busboy and node-types-busboy packages;
``opt/...`` from the image's npm installs (lodash/minimist 2019-era and handlebars 4.0.11's
dependency tree, which still uses the deprecated licence objects).
"""

from pathlib import Path

import pytest

from services.engine.catalogers.javascript.npm import npm_to_package
from services.engine.catalogers.javascript.parse_package_json import CATALOGER, parse_package_json
from services.engine.requests import glob_matches

HERE = Path(__file__).parent


def _parse(rel: str, testdata: str = "testdata"):
    return parse_package_json(rel, (HERE / testdata / rel).read_bytes())


def _record(rel: str):
    [raw] = _parse(rel).packages
    return npm_to_package(raw, None, "/" + rel)


def test_debian_scoped_package_and_purl() -> None:
    pkg = _record("usr/share/nodejs/@types/busboy/package.json")
    assert (pkg.name, pkg.version, pkg.licenses) == ("@types/busboy", "1.5.0", ["MIT"])
    assert pkg.purl == "pkg:npm/%40types/busboy@1.5.0"
    assert not pkg.declared


@pytest.mark.parametrize(
    ("rel", "name", "version", "licenses"),
    [
        ("usr/share/nodejs/busboy/package.json", "busboy", "1.6.0", ["MIT"]),  # "licenses": [{type}]
        ("opt/legacy/node_modules/longest/package.json", "longest", "1.0.1", ["MIT"]),  # "license": {type}
        ("opt/nodeapp/node_modules/minimist/package.json", "minimist", "1.2.0", ["MIT"]),  # "license": "MIT"
        (
            "opt/legacy/node_modules/uglify-js/node_modules/source-map/package.json",
            "source-map",
            "0.5.7",
            ["BSD-3-Clause"],
        ),
    ],
)
def test_licence_field_forms_and_nested_packages(
    rel: str, name: str, version: str, licenses: list[str]
) -> None:
    pkg = _record(rel)
    assert (pkg.name, pkg.version) == (name, version)
    assert pkg.purl == f"pkg:npm/{name}@{version}"
    assert pkg.licenses == licenses


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("opt/app/node_modules/lodash/package.json", True),
        ("opt/app/node_modules/@babel/core/package.json", True),
        ("opt/app/node_modules/a/node_modules/@s/b/package.json", True),
        ("opt/app/node_modules/.pnpm/lodash@4.17.21/node_modules/lodash/package.json", True),
        ("usr/share/nodejs/acorn/package.json", True),
        ("usr/share/nodejs/@types/node/package.json", True),
        ("usr/lib/x86_64-linux-gnu/nodejs/bufferutil/package.json", True),
        # not package roots: a stub inside a package, the project's own manifest, a gem's editor plugin
        ("opt/app/node_modules/lodash/fp/package.json", False),
        ("opt/app/node_modules/@babel/core/lib/package.json", False),
        ("opt/app/package.json", False),
        ("usr/share/nodejs/acorn/dist/package.json", False),
        ("usr/lib/ruby/gems/3.1.0/gems/typeprof-0.21.2/vscode/package.json", False),
    ],
)
def test_only_package_roots_are_requested(path: str, wanted: bool) -> None:
    assert any(glob_matches(p, path) for p in CATALOGER.request.patterns) is wanted


def test_malformed_manifests_are_problems() -> None:
    broken = _parse("opt/app/node_modules/broken/package.json", "testdata-malformed")
    assert broken.packages == []
    [problem] = broken.problems
    assert problem.startswith(
        "opt/app/node_modules/broken/package.json: not a valid package.json JSON document"
    )
    noversion = _parse("opt/app/node_modules/noversion/package.json", "testdata-malformed")
    assert noversion.packages == []
    assert noversion.problems == [
        "opt/app/node_modules/noversion/package.json: package noversion has no version"
    ]
    assert parse_package_json("x/node_modules/y/package.json", b"[1, 2]").problems == [
        "x/node_modules/y/package.json: package.json is not a JSON object"
    ]
