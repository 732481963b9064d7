"""npm lockfiles v1, v2 and v3, generated for real.

``srv/lock-v3/package.json`` was locked with npm 11.19.1 (``npm install --package-lock-only
--lockfile-version N``) into ``srv/lock-vN/package-lock.json``; ``npm-shrinkwrap.json`` is the
v1 file under the shrinkwrap name. ``opt/nodeapp/package-lock.json`` is the Debian fixture
image's own (npm 9, v3). The project has a scoped dependency, an alias (``mm`` installs
minimist 1.2.8), a version conflict (optimist nests minimist 0.0.10 and wordwrap 0.0.3) and
a dev dependency (is-buffer).
"""

from pathlib import Path

import pytest

from services.engine.catalogers.javascript.npm import npm_to_package
from services.engine.catalogers.javascript.parse_package_lock import parse_package_lock

HERE = Path(__file__).parent

PRODUCTION = {
    ("@types/busboy", "1.5.0"),
    ("@types/node", "26.6.6"),
    ("minimist", "1.2.0"),
    ("minimist", "1.2.8"),
    ("minimist", "0.0.10"),
    ("optimist", "0.6.1"),
    ("undici-types", "8.9.0"),
    ("wordwrap", "1.0.0"),
    ("wordwrap", "0.0.3"),
}


def _parse(rel: str, testdata: str = "testdata"):
    return parse_package_lock(rel, (HERE / testdata / rel).read_bytes())


@pytest.mark.parametrize(
    "rel",
    [
        "srv/lock-v1/package-lock.json",
        "srv/lock-v2/package-lock.json",
        "srv/lock-v3/package-lock.json",
        "srv/shrinkwrap/npm-shrinkwrap.json",
    ],
)
def test_every_version_lists_the_production_tree(rel: str) -> None:
    result = _parse(rel)
    assert result.problems == []
    # no is-buffer (dev); the project itself (demo-app) only where the file has its "" entry (v2, v3)
    expected = PRODUCTION | (
        {("demo-app", "1.0.0")} if "v1" not in rel and "shrinkwrap" not in rel else set()
    )
    assert {p.key() for p in result.packages} == expected
    assert len(result.packages) == len(expected)
    assert all(p.declared for p in result.packages)


def test_root_and_workspace_members() -> None:
    """npm 11 workspaces: ``packages/web-ui`` has no ``name`` (it matches the folder), ``packages/api``
    is scoped; both are linked from ``node_modules``. The root is reported, the dev dependency is not."""
    result = _parse("srv/workspaces/package-lock.json")
    assert result.problems == []
    found = {p.key(): p.metadata.get("role", "") for p in result.packages}
    assert found == {
        ("monorepo", "2.3.0"): "root",
        ("@acme/api", "0.4.1"): "workspace",
        ("web-ui", "1.0.0"): "workspace",
        ("minimist", "1.2.8"): "",
        ("ms", "2.1.3"): "",
        ("wordwrap", "1.0.0"): "",
    }


def test_scoped_entry_becomes_a_declared_npm_record() -> None:
    [raw] = [p for p in _parse("srv/lock-v3/package-lock.json").packages if p.name == "@types/busboy"]
    pkg = npm_to_package(raw, None, "/srv/lock-v3/package-lock.json")
    assert pkg.purl == "pkg:npm/%40types/busboy@1.5.0"
    assert pkg.declared
    assert pkg.licenses == ["MIT"]
    assert pkg.metadata["integrity"].startswith("sha512-")


def test_fixture_image_lockfile() -> None:
    result = _parse("opt/nodeapp/package-lock.json")
    assert {p.key() for p in result.packages} == {("lodash", "4.17.15"), ("minimist", "1.2.0")}


def test_lockfiles_inside_node_modules_are_skipped() -> None:
    assert _parse("opt/nodeapp/node_modules/minimist/package-lock.json").packages == []


def test_malformed_lockfiles_are_problems() -> None:
    result = _parse("srv/truncated-lock/package-lock.json", "testdata-malformed")
    assert result.packages == []
    [problem] = result.problems
    assert problem.startswith("srv/truncated-lock/package-lock.json: not a valid package-lock JSON document")
    assert parse_package_lock("a/package-lock.json", b'{"lockfileVersion": 7, "packages": {}}').problems == [
        "a/package-lock.json: unsupported package-lock layout (lockfileVersion 7)"
    ]
    entry = b'{"lockfileVersion": 3, "packages": {"node_modules/x": {"resolved": "file:x"}}}'
    assert parse_package_lock("b/package-lock.json", entry).problems == [
        "b/package-lock.json: package 'node_modules/x' has no version"
    ]
