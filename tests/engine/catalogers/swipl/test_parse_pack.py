"""SWI-Prolog packs: pack.pl facts."""

from pathlib import Path

from services.engine.catalogers.swipl.parse_pack import parse_pack, swipl_to_package

HERE = Path(__file__).parent
REL = "testdata/usr/lib/swi-prolog/pack/tabling_extras/pack.pl"


def test_pack_facts() -> None:
    result = parse_pack(REL, (HERE / REL).read_bytes())
    assert result.problems == []
    [raw] = result.packages
    assert (raw.name, raw.version) == ("tabling_extras", "1.3.0")
    assert raw.metadata == {"homepage": "https://example.org/tabling_extras"}
    assert swipl_to_package(raw, None, "/" + REL).purl == "pkg:swiplpack/tabling_extras@1.3.0"


def test_quoted_name_and_missing_version() -> None:
    [raw] = parse_pack("p/pack.pl", b"name('hdt').\n% version('0').\nversion(\"0.5.2\").\n").packages
    assert (raw.name, raw.version) == ("hdt", "0.5.2")
    assert parse_pack("p/pack.pl", b"name(hdt).\n").problems == [
        "p/pack.pl: pack.pl without name/1 or version/1"
    ]
