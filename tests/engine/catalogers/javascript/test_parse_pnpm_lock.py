"""pnpm-lock.yaml 5.4, 6.0 and 9.0, generated for real from ``srv/lock-v3/package.json``.

pnpm 7.33.7, 8.15.9 and 9.15.9 (``pnpm install --lockfile-only``) wrote
``srv/pnpm-v5``, ``srv/pnpm-v6`` and ``srv/pnpm-v9``. 5.x/6.x mark is-buffer ``dev: true``;
9.x only lists it under the importer's ``devDependencies``.
"""

from pathlib import Path

import pytest

from services.engine.catalogers.javascript.parse_pnpm_lock import package_key, parse_pnpm_lock

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
    return parse_pnpm_lock(rel, (HERE / testdata / rel).read_bytes())


@pytest.mark.parametrize("version", ["v5", "v6", "v9"])
def test_every_version_lists_the_production_packages(version: str) -> None:
    result = _parse(f"srv/pnpm-{version}/pnpm-lock.yaml")
    assert result.problems == []
    assert {p.key() for p in result.packages} == PRODUCTION
    assert all(p.declared for p in result.packages)
    [busboy] = [p for p in result.packages if p.name == "@types/busboy"]
    assert busboy.namespace == "@types"
    assert busboy.metadata["integrity"].startswith("sha512-")


@pytest.mark.parametrize(
    ("key", "major", "expected"),
    [
        ("/@babel/core/7.20.0_supports-color@5.5.0", 5, ("@babel/core", "7.20.0")),
        ("/lodash/4.17.21", 5, ("lodash", "4.17.21")),
        ("/@babel/core@7.20.0(supports-color@5.5.0)", 6, ("@babel/core", "7.20.0")),
        ("react-dom@18.2.0(react@18.2.0)", 9, ("react-dom", "18.2.0")),
        ("lodash@4.17.21", 9, ("lodash", "4.17.21")),
    ],
)
def test_package_keys_lose_peer_suffixes(key: str, major: int, expected: tuple[str, str]) -> None:
    assert package_key(key, major) == expected


def test_v9_peer_variant_reached_through_snapshots() -> None:
    doc = b"""lockfileVersion: '9.0'
importers:
  .:
    dependencies:
      react-dom: {specifier: ^18, version: 18.2.0(react@18.2.0)}
    devDependencies:
      jest: {specifier: ^29, version: 29.7.0}
packages:
  react-dom@18.2.0: {resolution: {integrity: sha512-a}}
  react@18.2.0: {resolution: {integrity: sha512-b}}
  jest@29.7.0: {resolution: {integrity: sha512-c}}
snapshots:
  react-dom@18.2.0(react@18.2.0):
    dependencies:
      react: 18.2.0
  react@18.2.0: {}
  jest@29.7.0: {}
"""
    result = parse_pnpm_lock("app/pnpm-lock.yaml", doc)
    assert {p.key() for p in result.packages} == {("react-dom", "18.2.0"), ("react", "18.2.0")}


def test_malformed_lockfiles_are_problems() -> None:
    result = _parse("srv/pnpm-bad-yaml/pnpm-lock.yaml", "testdata-malformed")
    assert result.packages == []
    assert result.problems == [
        "srv/pnpm-bad-yaml/pnpm-lock.yaml: pnpm lockfile is not valid YAML at line 59: "
        "could not find expected ':'"
    ]
    assert parse_pnpm_lock("b/pnpm-lock.yaml", b"lockfileVersion: 3\n").problems == [
        "b/pnpm-lock.yaml: unsupported pnpm lockfileVersion '3'"
    ]
