"""The WordPress core version from wp-includes/version.php."""

from pathlib import Path

from services.engine.catalogers.wordpress.parse_core_version import (
    parse_core_version,
    wordpress_core_to_package,
)

HERE = Path(__file__).parent
REL = "testdata/var/www/html/wp-includes/version.php"


def test_version_outside_comments() -> None:
    result = parse_core_version(REL, (HERE / REL).read_bytes())
    assert result.problems == []
    [raw] = result.packages
    assert (raw.name, raw.version) == ("wordpress", "6.4.3")
    assert wordpress_core_to_package(raw, None, "/" + REL).purl == "pkg:wordpress/wordpress@6.4.3"


def test_no_version_is_a_problem() -> None:
    result = parse_core_version("wp-includes/version.php", b"<?php\n$wp_db_version = 1;\n")
    assert result.problems == ["wp-includes/version.php: no $wp_version assignment"]
