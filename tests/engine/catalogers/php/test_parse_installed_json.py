"""Composer's ``vendor/composer/installed.json``, both layouts.

Composer is not installed here, so the fixtures are written by hand in the exact shape
Composer 2 writes (``{"packages": [...], "dev": true, "dev-package-names": [...]}``, each
package with ``version_normalized``, ``installation-source``, ``install-path``) and Composer 1
wrote (a bare array), with real package names, versions and licences.
"""

from pathlib import Path

from services.engine.catalogers.php.composer import composer_to_package
from services.engine.catalogers.php.parse_installed_json import parse_installed_json

HERE = Path(__file__).parent


def _parse(rel: str, testdata: str = "testdata"):
    return parse_installed_json(rel, (HERE / testdata / rel).read_bytes())


def test_composer_2_layout() -> None:
    result = _parse("var/www/app/vendor/composer/installed.json")
    assert result.problems == []
    assert [p.key() for p in result.packages] == [
        ("monolog/monolog", "2.9.1"),
        ("psr/log", "3.0.0"),
        ("phpunit/php-timer", "5.0.3"),  # installed, even though only require-dev asked for it
    ]
    assert [p.metadata.get("dev", "") for p in result.packages] == ["", "", "true"]
    pkg = composer_to_package(result.packages[0], None, "/var/www/app/vendor/composer/installed.json")
    assert (pkg.name, pkg.type, pkg.purl) == (
        "monolog/monolog",
        "composer",
        "pkg:composer/monolog/monolog@2.9.1",
    )
    assert pkg.licenses == ["MIT"]
    assert not pkg.declared


def test_composer_1_layout_keeps_versions_as_written() -> None:
    result = _parse("srv/legacy/vendor/composer/installed.json")
    assert result.problems == []
    assert [p.key() for p in result.packages] == [
        ("guzzlehttp/guzzle", "6.5.5"),
        ("guzzlehttp/promises", "v1.3.1"),
    ]
    pkg = composer_to_package(result.packages[1], None, "/srv/legacy/vendor/composer/installed.json")
    assert pkg.purl == "pkg:composer/guzzlehttp/promises@v1.3.1"


def test_entries_without_a_version_are_problems() -> None:
    result = _parse("srv/broken/vendor/composer/installed.json", "testdata-malformed")
    assert [p.key() for p in result.packages] == [("psr/log", "3.0.0")]
    assert result.packages[0].licenses == ("MIT",)  # a bare string licence is accepted too
    assert result.problems == ["srv/broken/vendor/composer/installed.json: package #0 has no name or version"]
    assert parse_installed_json("v/installed.json", b'{"dev": true}').problems == [
        "v/installed.json: installed.json is neither a package array nor has 'packages'"
    ]
