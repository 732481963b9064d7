"""LuaRocks rockspecs: package, version and licence of an installed rock."""

from pathlib import Path

from services.engine.catalogers.lua.parse_rockspec import luarocks_to_package, parse_rockspec

HERE = Path(__file__).parent
REL = "testdata/usr/local/lib/luarocks/rocks-5.4/luasocket/3.1.0-1/luasocket-3.1.0-1.rockspec"


def test_rockspec_fields() -> None:
    result = parse_rockspec(REL, (HERE / REL).read_bytes())
    assert result.problems == []
    [raw] = result.packages
    assert (raw.name, raw.version, raw.licenses) == ("LuaSocket", "3.1.0-1", ("MIT",))
    assert (
        luarocks_to_package(raw, None, "/" + REL).purl == "pkg:luarocks/luasocket@3.1.0-1"
    )  # the purl spec lower-cases rock names


def test_single_quotes_long_strings_and_comments() -> None:
    data = b'--[[ package = "old" ]]\npackage = \'lpeg\'\nversion = [[1.1.0-2]]\n-- version = "9"\n'
    [raw] = parse_rockspec("x.rockspec", data).packages
    assert (raw.name, raw.version, raw.licenses) == ("lpeg", "1.1.0-2", ())
    assert parse_rockspec("x.rockspec", b"package = 'lpeg'\n").problems == [
        "x.rockspec: rockspec without package or version"
    ]
