"""apk installed-database parsing, against a file shaped like Alpine 3.20's."""

from pathlib import Path

from schemas.records import Distro
from services.engine.catalogers.alpine.parse_apk_db import FIELD_MAX, apk_to_package, parse_apk_db
from services.engine.catalogers.problems import PROBLEMS_PER_FILE

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


def test_a_database_of_garbage_lines_gives_a_capped_list_of_problems() -> None:
    # issue 18: a 7 GiB database of garbage lines became 8.4 million unknowns; here 200,000 lines
    data = b"P:ok\nV:1.0-r0\n\n" + b"garbage line\n" * 200_000
    result = parse_apk_db(DB, data)
    assert [p.name for p in result.packages] == ["ok"]
    assert len(result.problems) == PROBLEMS_PER_FILE + 1
    assert result.problems[-1] == f"{DB}: {200_000 - PROBLEMS_PER_FILE} more problems not listed"


def test_an_over_long_name_is_a_problem_not_a_package() -> None:
    result = parse_apk_db(DB, b"P:" + b"x" * 100_000 + b"\nV:1\n\nP:ok\nV:2\n")
    assert [p.name for p in result.packages] == ["ok"]
    assert result.problems == [f"{DB}: stanza at line 1: P or V field over {FIELD_MAX} characters"]
