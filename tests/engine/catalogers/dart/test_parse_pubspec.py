"""pubspec.yaml: the Dart package a manifest names."""

from pathlib import Path

from services.engine.catalogers.dart.parse_pubspec import parse_pubspec
from services.engine.catalogers.dart.parse_pubspec_lock import pub_to_package

HERE = Path(__file__).parent
CACHED = "testdata/root/.pub-cache/hosted/pub.dev/http-1.2.1/pubspec.yaml"
APP = "testdata/srv/app/pubspec.yaml"


def test_a_cached_package() -> None:
    result = parse_pubspec(CACHED, (HERE / CACHED).read_bytes())
    assert result.problems == []
    [raw] = result.packages
    assert (raw.name, raw.version) == ("http", "1.2.1")
    assert raw.metadata == {
        "repository": "https://github.com/dart-lang/http/tree/master/pkgs/http",
        "environment.sdk": "^3.3.0",
    }
    assert pub_to_package(raw, None, "/" + CACHED).purl == "pkg:pub/http@1.2.1"


def test_an_unversioned_app_and_broken_files() -> None:
    assert parse_pubspec(APP, (HERE / APP).read_bytes()).packages == []
    assert parse_pubspec("p/pubspec.yaml", b"version: 1.0.0\n").problems == [
        "p/pubspec.yaml: pubspec with a version but no name"
    ]
    assert "not valid YAML" in parse_pubspec("p/pubspec.yaml", b"name: [\n").problems[0]
