"""pubspec.lock: Trivy's happy.lock fixture with an entry in pub 3's shape (``sha256`` in the description)."""

from pathlib import Path

from services.engine.catalogers.dart.parse_pubspec_lock import parse_pubspec_lock, pub_to_package

HERE = Path(__file__).parent
REL = "testdata/srv/flutterapp/pubspec.lock"


def test_packages_other_than_the_sdk() -> None:
    result = parse_pubspec_lock(REL, (HERE / REL).read_bytes())
    assert result.problems == []
    assert [(p.name, p.version, p.metadata["dependency"]) for p in result.packages] == [
        ("crypto", "3.0.2", "direct main"),
        ("uuid", "3.0.6", "transitive"),
        ("intl", "0.18.1", "direct main"),
    ]  # flutter_test comes with the Flutter SDK
    pkg = pub_to_package(result.packages[2], None, "/srv/flutterapp/pubspec.lock")
    assert (pkg.purl, pkg.declared, pkg.metadata["hosted_url"]) == (
        "pkg:pub/intl@0.18.1",
        True,
        "https://pub.dev",
    )


def test_bad_entries_and_yaml_are_problems() -> None:
    data = b"packages:\n  a:\n    source: hosted\n    version: '1.0.0'\n  b:\n    source: hosted\n  c: [1]\n"
    result = parse_pubspec_lock("p/pubspec.lock", data)
    assert [p.key() for p in result.packages] == [("a", "1.0.0")]
    assert result.problems == [
        "p/pubspec.lock: package 'b' has no version",
        "p/pubspec.lock: package 'c' is not a mapping",
    ]
    assert (
        parse_pubspec_lock("p/pubspec.lock", b"packages: [\n")
        .problems[0]
        .startswith("p/pubspec.lock: pubspec.lock is not valid YAML")
    )
    assert parse_pubspec_lock("p/pubspec.lock", b"packages: {}\nsdks: {}\n").packages == []
