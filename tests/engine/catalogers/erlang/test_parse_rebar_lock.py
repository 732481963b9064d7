"""rebar.lock: Hex packages of an Erlang project (fixture from syft's tests)."""

from pathlib import Path

from services.engine.catalogers.elixir.hex import hex_to_package
from services.engine.catalogers.erlang.parse_rebar_lock import parse_rebar_lock

HERE = Path(__file__).parent
REL = "testdata/srv/erlapp/rebar.lock"


def test_pkg_entries_only() -> None:
    result = parse_rebar_lock(REL, (HERE / REL).read_bytes())
    assert result.problems == []
    assert [(p.name, p.version) for p in result.packages] == [
        ("bcrypt", "1.1.5"),
        ("certifi", "2.9.0"),
        ("stdout_formatter", "0.2.3"),
        ("syslog", "1.1.0"),
        ("unicode_util_compat", "0.7.0"),
    ]  # bson, swc and vernemq_dev are git checkouts
    pkg = hex_to_package(result.packages[1], None, "/srv/erlapp/rebar.lock")
    assert (pkg.purl, pkg.declared) == ("pkg:hex/certifi@2.9.0", True)


def test_damaged_entry_is_a_problem() -> None:
    data = b'{"1.2.0",[{<<"a">>,{pkg,<<"a">>,<<"1.0.0">>},0},{<<"b">>,{pkg,<<"b">>,0},0}]}.\n'
    result = parse_rebar_lock("r/rebar.lock", data)
    assert [p.name for p in result.packages] == ["a"]
    assert result.problems == ["r/rebar.lock: 1 pkg entries unreadable"]
