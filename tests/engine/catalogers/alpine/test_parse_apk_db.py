"""apk installed-database parsing, against a file shaped like Alpine 3.20's."""

from pathlib import Path

from schemas.records import Distro
from services.engine.catalogers.alpine.parse_apk_db import apk_to_package, parse_apk_db

HERE = Path(__file__).parent
DB = "lib/apk/db/installed"


def test_installed_db_yields_packages_with_origin_license_and_files() -> None:
    result = parse_apk_db(DB, (HERE / "testdata" / DB).read_bytes())
    assert result.problems == []
    by_name = {p.name: p for p in result.packages}
    assert sorted(by_name) == ["busybox-binsh", "libcrypto3", "musl"]
    assert by_name["libcrypto3"].source_name == "openssl"
    assert by_name["libcrypto3"].licenses == ("Apache-2.0",)
    assert by_name["musl"].files == ("lib/ld-musl-x86_64.so.1", "lib/libc.musl-x86_64.so.1")
    assert by_name["busybox-binsh"].source_name == "busybox"  # last stanza, no trailing blank line


def test_malformed_lines_and_missing_fields_are_problems() -> None:
    data = b"P:ok\nV:1.0-r0\n\nthis is not apk\nP:noversion\n\n"
    result = parse_apk_db(DB, data)
    assert [p.name for p in result.packages] == ["ok"]
    assert any("malformed line 'this is not apk'" in p for p in result.problems)
    assert any("no V field" in p for p in result.problems)


def test_purl() -> None:
    raw = parse_apk_db(DB, (HERE / "testdata" / DB).read_bytes()).packages[1]
    pkg = apk_to_package(raw, Distro(id="alpine", version_id="3.20.3"), "/" + DB)
    assert pkg.purl == "pkg:apk/alpine/libcrypto3@3.3.0-r2?arch=x86_64&distro=alpine-3.20.3&upstream=openssl"
