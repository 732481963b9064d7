"""mix.lock: Hex packages of an Elixir project (fixture from syft's tests, with an alias entry)."""

from pathlib import Path

from services.engine.catalogers.elixir.hex import hex_to_package
from services.engine.catalogers.elixir.parse_mix_lock import parse_mix_lock

HERE = Path(__file__).parent
REL = "testdata/srv/phoenixapp/mix.lock"


def test_hex_entries_only() -> None:
    result = parse_mix_lock(REL, (HERE / REL).read_bytes())
    assert result.problems == []
    found = {p.name: p for p in result.packages}
    assert len(found) == 16  # 15 hex packages and the alias; no :git or :path checkout
    assert not {"enacl", "local_dep"} & set(found)
    assert (found["cowboy"].version, found["ecto_sql"].version) == ("2.9.0", "3.8.1")
    assert found["poison"].version == "5.0.0"  # "my_json": {:hex, :poison, ...}: the Hex package's name
    assert found["castore"].metadata == {
        "pkg_hash": "ba672681de4e51ed8ec1f74ed624d104c0db72742ea1a5e74edbc770c815182f",
        "pkg_hash_ext": "d9844227ed52d26e7519224525cb6868650c272d4a3d327ce3ca5570c12163f9",
        "repo": "hexpm",
    }
    pkg = hex_to_package(found["ecto"], None, "/srv/phoenixapp/mix.lock")
    assert (pkg.type, pkg.purl, pkg.declared) == ("hex", "pkg:hex/ecto@3.8.1", True)


def test_unreadable_hex_entry_is_a_problem() -> None:
    data = b'%{\n  "ok": {:hex, :ok, "1.0.0", "ab", [:mix], [], "hexpm", "cd"},\n  "bad": {:hex, :bad},\n}\n'
    result = parse_mix_lock("m/mix.lock", data)
    assert [p.name for p in result.packages] == ["ok"]
    assert result.problems == ["m/mix.lock: 1 :hex entries unreadable"]
