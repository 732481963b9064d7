"""rpm's SQLite database, written by Debian's rpm 4.18 (make_testdata.sh), checked against rpm -qa."""

from __future__ import annotations

import sqlite3

from schemas.records import Distro
from services.engine.budget import ScanBudget
from services.engine.catalogers.rpm.parse_rpmdb_sqlite import CATALOGER, parse_rpmdb_sqlite
from tests.engine.catalogers.rpm.headers import SQLITE_DB, TESTDATA
from tests.engine.catalogers.rpm.oracle import rpm_qa

DATA = (TESTDATA / SQLITE_DB).read_bytes()


def _epoch_evr(version: str) -> str:
    return version if ":" in version else f"0:{version}"


def test_packages_equal_what_rpm_reads() -> None:
    result = parse_rpmdb_sqlite(SQLITE_DB, DATA)
    assert result.problems == []
    ours = {(p.name, _epoch_evr(p.version), p.arch, p.metadata["sourcerpm"]) for p in result.packages}
    assert ours == rpm_qa(TESTDATA / SQLITE_DB)
    assert len(ours) == 3


def test_raw_package_fields() -> None:
    by_name = {p.name: p for p in parse_rpmdb_sqlite(SQLITE_DB, DATA).packages}
    ssl = by_name["openssl-libs"]
    assert ssl.version == "1:3.0.1-43.el9_0"
    assert (ssl.source_name, ssl.source_version) == ("openssl", "3.0.1-43.el9_0")
    assert ssl.licenses == ("ASL 2.0",)
    assert ssl.files == ("usr/lib64/libcrypto.so.3", "usr/lib64/libssl.so.3")
    assert ssl.metadata == {
        "vendor": "Assay Fixtures",
        "epoch": "1",
        "release": "43.el9_0",
        "sourcerpm": "openssl-3.0.1-43.el9_0.src.rpm",
    }
    assert by_name["libcurl"].source_name == "curl"
    assert by_name["bash"].version == "5.1.8-4.el9"
    assert "epoch" not in by_name["bash"].metadata


def test_stream_and_bytes_agree() -> None:
    import io

    assert CATALOGER.parse_stream is not None
    assert CATALOGER.parse_stream(SQLITE_DB, io.BytesIO(DATA)) == parse_rpmdb_sqlite(SQLITE_DB, DATA)
    assert CATALOGER.request.spool
    assert CATALOGER.request.max_bytes >= 256 * 1024 * 1024


def test_purl_for_rhel() -> None:
    raw = next(p for p in parse_rpmdb_sqlite(SQLITE_DB, DATA).packages if p.name == "openssl-libs")
    pkg = CATALOGER.to_package(raw, Distro(id="rhel", version_id="9.0"), "/" + SQLITE_DB)
    assert pkg.purl == (
        "pkg:rpm/redhat/openssl-libs@3.0.1-43.el9_0?arch=x86_64&distro=rhel-9.0&epoch=1"
        "&upstream=openssl-3.0.1-43.el9_0.src.rpm"
    )
    assert (pkg.type, pkg.version, pkg.source_name) == ("rpm", "1:3.0.1-43.el9_0", "openssl")
    assert pkg.metadata["vendor"] == "Assay Fixtures"


def test_truncated_file_is_a_problem() -> None:
    result = parse_rpmdb_sqlite(SQLITE_DB, DATA[: len(DATA) // 3])
    assert result.packages == []
    assert result.problems
    assert result.problems[0].startswith(SQLITE_DB + ": ")


def test_not_sqlite_is_a_problem() -> None:
    assert parse_rpmdb_sqlite(SQLITE_DB, b"\x00" * 100).problems == [
        f"{SQLITE_DB}: not a SQLite database (bad magic)"
    ]


def test_sqlite_without_packages_table_is_a_problem(tmp_path) -> None:
    db = tmp_path / "other.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t(x)")
    conn.close()
    result = parse_rpmdb_sqlite(SQLITE_DB, db.read_bytes())
    assert result.packages == []
    assert "not an rpm database: no such table: Packages" in result.problems[0]


def test_corrupt_header_row_is_a_problem_and_the_rest_are_read(tmp_path) -> None:
    db = tmp_path / "rpmdb.sqlite"
    db.write_bytes(DATA)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("UPDATE Packages SET blob = substr(blob, 1, 40) WHERE hnum = 2")
        conn.execute("INSERT INTO Packages VALUES (99, 'text, not a blob')")
    conn.close()
    result = parse_rpmdb_sqlite(SQLITE_DB, db.read_bytes())
    assert len(result.packages) == 2
    assert any(p.startswith(f"{SQLITE_DB}: header 2: header needs") for p in result.problems), result.problems
    assert f"{SQLITE_DB}: header 99: blob is str, not bytes" in result.problems


def _db(tmp_path, *statements: str) -> bytes:
    db = tmp_path / "hostile.sqlite"
    with sqlite3.connect(db) as conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()
    return db.read_bytes()


def test_a_recursive_view_named_packages_is_refused_unread(tmp_path) -> None:
    # issue 18: a Packages view recursing without end took 146 s and 10 GB of temporary files
    data = _db(
        tmp_path,
        "CREATE VIEW Packages AS WITH RECURSIVE r(hnum, blob) AS "
        "(SELECT 1, zeroblob(1000) UNION ALL SELECT hnum + 1, blob || blob FROM r) SELECT * FROM r",
    )
    assert parse_rpmdb_sqlite(SQLITE_DB, data).problems == [
        f"{SQLITE_DB}: not an rpm database: Packages is a view, not a table"
    ]


def test_generated_columns_and_virtual_tables_are_refused(tmp_path) -> None:
    generated = _db(
        tmp_path,
        "CREATE TABLE Packages(hnum INTEGER PRIMARY KEY, "
        "blob BLOB GENERATED ALWAYS AS (zeroblob(hnum * 1000000)) VIRTUAL)",
        "INSERT INTO Packages(hnum) VALUES (1)",
    )
    assert parse_rpmdb_sqlite(SQLITE_DB, generated).problems == [
        f"{SQLITE_DB}: not an rpm database: Packages has generated or hidden columns"
    ]
    (tmp_path / "hostile.sqlite").unlink()
    virtual = _db(tmp_path, "CREATE VIRTUAL TABLE Packages USING fts5(hnum, blob)")
    assert parse_rpmdb_sqlite(SQLITE_DB, virtual).problems == [
        f"{SQLITE_DB}: not an rpm database: Packages is not an ordinary table"
    ]


def test_a_read_past_the_parse_time_budget_is_aborted(tmp_path) -> None:
    db = tmp_path / "rpmdb.sqlite"
    db.write_bytes(DATA)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.executemany("INSERT INTO Packages VALUES (?, x'00')", [(n,) for n in range(100, 60_000)])
    conn.close()
    result = parse_rpmdb_sqlite(SQLITE_DB, db.read_bytes(), ScanBudget(parse_seconds_max=0.0))
    assert result.problems[-1] == (
        f"{SQLITE_DB}: scan budget parse_seconds_max exceeded "
        "(limit 0.0; setting ASSAY_BUDGET_PARSE_SECONDS_MAX)"
    )
