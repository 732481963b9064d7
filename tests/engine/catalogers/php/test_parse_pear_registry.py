"""PEAR registry entries: memcached from syft's memcached-v6-format.reg fixture (a PECL extension as
``pecl install`` records it) and PEAR itself in the shape the official php images carry."""

from pathlib import Path

from services.engine.catalogers.php.parse_pear_registry import parse_pear_registry, pear_to_package
from services.engine.catalogers.php.phpserial import unserialize

HERE = Path(__file__).parent / "testdata"
REG = "usr/local/lib/php/.registry"


def _record(rel: str):
    [raw] = parse_pear_registry(rel, (HERE / rel).read_bytes()).packages
    return pear_to_package(raw, None, "/" + rel)


def test_pecl_extension_and_pear_package() -> None:
    memcached = _record(f"{REG}/.channel.pecl.php.net/memcached.reg")
    assert (memcached.purl, memcached.licenses) == ("pkg:pecl/memcached@3.2.0", ["PHP License"])
    pear = _record(f"{REG}/pear.reg")
    assert (pear.purl, pear.licenses) == ("pkg:pear/PEAR@1.10.13", ["New BSD License"])


def test_damaged_entries_are_problems() -> None:
    truncated = (HERE / f"{REG}/pear.reg").read_bytes()[:60]
    result = parse_pear_registry("p.reg", truncated)
    assert result.packages == []
    assert result.problems[0].startswith("p.reg: not a PEAR registry entry")
    no_version = b'a:1:{s:4:"name";s:1:"x";}'
    assert parse_pear_registry("p.reg", no_version).problems == [
        "p.reg: PEAR registry entry without name or version.release"
    ]


def test_serialize_subset() -> None:
    assert unserialize(b'a:3:{i:0;N;s:1:"k";d:1.5;s:2:"\xc3\xa9";b:1;}') == {
        0: None,
        "k": 1.5,
        "\u00e9": True,
    }
    for bad in (b'O:8:"stdClass":0:{}', b's:5:"abc";', b"a:1:{i:0;i:1;", b"a:-1:{}"):
        try:
            unserialize(bad)
        except ValueError:
            continue
        raise AssertionError(bad)
