"""conan.lock: Conan 2 (Trivy's happy_v2.lock fixture) and Conan 1 graph locks (its happy_v1_case2.lock,
options shortened, plus a user/channel reference)."""

from pathlib import Path

from services.engine.catalogers.cpp.parse_conan_lock import conan_to_package, parse_conan_lock

HERE = Path(__file__).parent


def _parse(rel: str):
    return parse_conan_lock(rel, (HERE / rel).read_bytes())


def test_conan_2_requires_and_build_requires() -> None:
    result = _parse("testdata/srv/conan2app/conan.lock")
    assert result.problems == []
    assert [(p.name, p.version, p.metadata.get("dev", "")) for p in result.packages] == [
        ("sound32", "1.0", ""),
        ("matrix", "1.3", ""),
        ("automake", "1.16.5", "true"),
        ("autoconf", "2.71", "true"),
    ]
    assert result.packages[0].metadata["recipe_revision"] == "83d4b7bf607b3b60a6546f8b58b5cdd7"


def test_conan_1_graph_lock_without_the_consumer() -> None:
    result = _parse("testdata/srv/conan1app/conan.lock")
    assert result.problems == []
    purls = [conan_to_package(p, None, "/srv/conan1app/conan.lock").purl for p in result.packages]
    assert purls == [
        "pkg:conan/openssl@3.0.3",
        "pkg:conan/zlib@1.2.12",
        "pkg:conan/poco@1.9.4?channel=stable&user=mycompany",
    ]


def test_bad_references_and_files_are_problems() -> None:
    result = parse_conan_lock(
        "c/conan.lock", b'{"version": "0.5", "requires": ["zlib/1.3", "no-version", 5]}'
    )
    assert [p.key() for p in result.packages] == [("zlib", "1.3")]
    assert result.problems == [
        "c/conan.lock: reference 'no-version' is not name/version",
        "c/conan.lock: reference '5' is not name/version",
    ]
    assert parse_conan_lock("c/conan.lock", b"[]").problems == [
        "c/conan.lock: neither 'graph_lock' nor 'requires': not a conan.lock"
    ]
