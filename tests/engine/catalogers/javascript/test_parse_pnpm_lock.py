"""pnpm-lock.yaml 5.4, 6.0 and 9.0, generated for real from ``srv/lock-v3/package.json``.

pnpm 7.33.7, 8.15.9 and 9.15.9 (``pnpm install --lockfile-only``) wrote
``srv/pnpm-v5``, ``srv/pnpm-v6`` and ``srv/pnpm-v9``. 5.x/6.x mark is-buffer ``dev: true``;
9.x only lists it under the importer's ``devDependencies``.
"""

from pathlib import Path

import pytest

from services.engine.budget import ScanBudget
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


def test_v9_workspace_members_tarballs_and_directories() -> None:
    # shaped like Trivy's pnpm-lock_v9.yaml test case: a workspace member's production
    # dependencies count; tarball packages take their "version" field; a file: directory
    # package keeps its file: version (as syft); devDependencies of every importer are left out
    result = _parse("srv/pnpm-v9-workspace/pnpm-lock.yaml")
    assert result.problems == []
    assert {p.key() for p in result.packages} == {
        ("cookie", "0.7.2"),
        ("cookie-signature", "1.0.7"),
        ("express-session", "1.18.1"),
        ("left-pad", "1.3.0"),
        ("local-utils", "file:vendor/local-utils"),
        ("ms", "2.0.0"),
        ("uuid", "9.0.1"),
    }


def _alias_bomb(levels: int) -> bytes:
    """A lockfile whose integrity field is nine levels of ten aliases each: 10**9 nodes when expanded."""
    lines = ["lockfileVersion: '6.0'", "anchors:", "  l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for n in range(1, levels + 1):
        lines.append(f"  l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 10) + "]")
    lines += ["packages:", "  /left-pad@1.3.0:", f"    resolution: {{integrity: *l{levels}}}"]
    return ("\n".join(lines) + "\n").encode()


def test_a_lockfile_of_nested_aliases_is_refused_not_expanded() -> None:
    # issue 18: a pnpm lockfile whose integrity was a nest of aliases took 5.6 GiB
    data = _alias_bomb(9)
    assert len(data) < 1024
    result = parse_pnpm_lock("app/pnpm-lock.yaml", data)
    assert result.packages == []
    assert result.problems == [
        "app/pnpm-lock.yaml: pnpm lockfile refused: aliases expand to more than 100000 nodes"
    ]


def test_a_few_aliases_are_read_and_a_non_text_integrity_is_dropped() -> None:
    result = parse_pnpm_lock("app/pnpm-lock.yaml", _alias_bomb(2))
    assert result.problems == []
    assert [(p.key(), p.metadata) for p in result.packages] == [(("left-pad", "1.3.0"), {})]


def test_a_lockfile_over_the_parsed_file_budget_is_refused() -> None:
    data = (HERE / "testdata" / "srv/pnpm-v9/pnpm-lock.yaml").read_bytes()
    result = parse_pnpm_lock("srv/pnpm-lock.yaml", data, ScanBudget(parsed_file_bytes_max=1000))
    assert result.packages == []
    assert result.problems == [
        f"srv/pnpm-lock.yaml: pnpm lockfile of {len(data)} bytes: scan budget parsed_file_bytes_max "
        "exceeded (limit 1000; setting ASSAY_BUDGET_PARSED_FILE_BYTES_MAX)"
    ]
