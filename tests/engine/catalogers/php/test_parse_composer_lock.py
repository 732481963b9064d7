"""``composer.lock``: written by hand in Composer 2's lockfile shape (see test_parse_installed_json)."""

from pathlib import Path

from services.engine.catalogers.php.composer import composer_to_package
from services.engine.catalogers.php.parse_composer_lock import parse_composer_lock

HERE = Path(__file__).parent


def _parse(rel: str, testdata: str = "testdata"):
    return parse_composer_lock(rel, (HERE / testdata / rel).read_bytes())


def test_production_and_dev_packages() -> None:
    result = _parse("var/www/app/composer.lock")
    assert result.problems == []
    assert [p.key() for p in result.packages] == [
        ("monolog/monolog", "2.9.1"),
        ("psr/log", "3.0.0"),
        ("phpunit/php-timer", "5.0.3"),  # packages-dev: installed by a default `composer install`
    ]
    assert [p.metadata.get("dev", "") for p in result.packages] == ["", "", "true"]
    pkg = composer_to_package(result.packages[1], None, "/var/www/app/composer.lock")
    assert (pkg.purl, pkg.declared, pkg.licenses) == ("pkg:composer/psr/log@3.0.0", True, ["MIT"])


def test_truncated_lockfile_is_a_problem() -> None:
    result = _parse("srv/broken/composer.lock", "testdata-malformed")
    assert result.packages == []
    [problem] = result.problems
    assert problem.startswith("srv/broken/composer.lock: not a valid composer.lock JSON document")


def test_bad_dev_entry_is_a_problem_naming_the_list() -> None:
    data = b'{"packages": [{"name": "a/b", "version": "1.0.0"}], "packages-dev": [{"name": "c/d"}]}'
    result = parse_composer_lock("x/composer.lock", data)
    assert [p.key() for p in result.packages] == [("a/b", "1.0.0")]
    assert result.problems == ["x/composer.lock: package #0 has no name or version (packages-dev)"]
