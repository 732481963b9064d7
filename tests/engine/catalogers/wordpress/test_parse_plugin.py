"""WordPress plugins: the header of a plugin's main PHP file."""

from pathlib import Path

from services.engine.catalogers.wordpress.parse_plugin import CATALOGER, parse_plugin, wordpress_to_package

HERE = Path(__file__).parent
DIR = "testdata/var/www/html/wp-content/plugins/hello-audit"


def test_main_file_header() -> None:
    rel = f"{DIR}/hello-audit.php"
    result = parse_plugin(rel, (HERE / rel).read_bytes())
    assert result.problems == []
    [raw] = result.packages
    assert (raw.name, raw.version, raw.licenses) == (
        "Hello Audit: Activity Log",
        "2.4.1",
        ("GPLv2 or later",),
    )
    assert raw.metadata == {"slug": "hello-audit", "author": "Example Plugins Team"}
    assert wordpress_to_package(raw, None, "/" + rel).purl == "pkg:wordpress-plugin/hello-audit@2.4.1"


def test_other_php_files_are_not_plugins() -> None:
    rel = f"{DIR}/uninstall.php"
    data = (HERE / rel).read_bytes()
    assert CATALOGER.request.accept is not None
    assert not CATALOGER.request.accept(rel, data)
    assert parse_plugin(rel, data).packages == []


def test_crlf_header_and_a_missing_version() -> None:
    data = b"<?php\r\n/*\r\nPlugin Name: WP Migration\r\nVersion: 7.81\r\nLicense: GPLv3\r\n*/\r\n"
    [raw] = parse_plugin("wp-content/plugins/wpm/wpm.php", data).packages
    assert (raw.name, raw.version, raw.licenses) == ("WP Migration", "7.81", ("GPLv3",))
    bad = parse_plugin("wp-content/plugins/x/x.php", b"<?php\n/* Plugin Name: X */\n")
    assert bad.problems == ["wp-content/plugins/x/x.php: plugin header without a Version"]
