"""bun.lock: ``srv/bun-workspaces`` was locked for real with Bun 1.2.19 (``bun install --lockfile-only``).

The project has a scoped dependency, an alias (``mm`` installs minimist 1.2.8), a nested
conflict (optimist needs minimist 0.0.x), two workspace members, an optional dependency and
two development-only packages (is-number at the root, kind-of in ``packages/tools``).
"""

from pathlib import Path

from services.engine.catalogers.javascript.npm import npm_to_package
from services.engine.catalogers.javascript.parse_bun_lock import parse_bun_lock

HERE = Path(__file__).parent


def _parse(rel: str, testdata: str = "testdata"):
    return parse_bun_lock(rel, (HERE / testdata / rel).read_bytes())


def test_production_packages_and_workspace_members() -> None:
    result = _parse("srv/bun-workspaces/bun.lock")
    assert result.problems == []
    found = {p.key(): p.metadata.get("role", "") for p in result.packages}
    assert found == {
        ("@acme/api", "0.4.1"): "workspace",
        ("tools", "0.0.2"): "workspace",
        ("@types/busboy", "1.5.0"): "",
        ("@types/node", "26.6.11"): "",
        ("undici-types", "8.9.0"): "",
        ("minimist", "1.2.8"): "",  # installed as "mm"
        ("minimist", "0.0.10"): "",
        ("ms", "2.1.3"): "",  # optional
        ("optimist", "0.6.1"): "",
        ("wordwrap", "0.0.3"): "",
    }  # no is-number, no kind-of: development only
    [busboy] = [p for p in result.packages if p.name == "@types/busboy"]
    pkg = npm_to_package(busboy, None, "/srv/bun-workspaces/bun.lock")
    assert (pkg.purl, pkg.declared) == ("pkg:npm/%40types/busboy@1.5.0", True)
    assert pkg.metadata["integrity"].startswith("sha512-ncOOhwmy")


def test_comments_and_trailing_commas() -> None:
    result = _parse("srv/bun-jsonc/bun.lock")
    assert result.problems == []
    assert {p.key() for p in result.packages} == {("foo", "1.0.0"), ("url-ish", "2.0.0")}
    [url_ish] = [p for p in result.packages if p.name == "url-ish"]
    assert url_ish.metadata["integrity"] == "sha512-a//b/*c*/=="  # comment markers inside strings stay


def test_malformed_entries_are_problems() -> None:
    rel = "srv/bun-bad/bun.lock"
    result = _parse(rel, "testdata-malformed")
    assert [p.key() for p in result.packages] == [("ok", "1.0.0")]
    assert result.problems == [
        f"{rel}: package 'odd' is not an array",
        f"{rel}: package 'broken' has no name@version",
    ]
    assert parse_bun_lock("b/bun.lock", b"{").problems[0].startswith("b/bun.lock: not a valid bun.lock JSON")
    assert parse_bun_lock("b/bun.lock", b"[]").problems == [
        "b/bun.lock: no 'packages' object: not a bun.lock"
    ]


def test_a_dependency_missing_from_packages_is_not_followed() -> None:
    data = (
        b'{"lockfileVersion": 1, "workspaces": {"": {"dependencies": {"a": "1"}}}, "packages": {'
        b'"a": ["a@1.0.0", "", {"dependencies": {"gone": "*"}}, "sha512-a"]}}'
    )
    result = parse_bun_lock("b/bun.lock", data)
    assert ([p.key() for p in result.packages], result.problems) == ([("a", "1.0.0")], [])
