"""rpm's NDB ``Packages.db`` (SUSE).

Debian's rpm 4.18 has no NDB backend (``--define '_db_backend ndb'`` answers "invalid
%_db_backend: ndb"), so the fixture is hand-built by ``ndb_writer.py`` from the real header
blobs of the SQLite fixture, laid out as rpm's lib/backend/ndb/rpmpkg.c writes it. The
expected packages are what rpm reads from that SQLite fixture.
"""

from __future__ import annotations

import io
import struct

from schemas.records import Distro
from services.engine.catalogers.rpm.parse_rpmdb_ndb import CATALOGER, parse_rpmdb_ndb
from services.engine.catalogers.rpm.parse_rpmdb_sqlite import parse_rpmdb_sqlite
from tests.engine.catalogers.rpm.headers import NDB_DB, SQLITE_DB, TESTDATA, real_blobs
from tests.engine.catalogers.rpm.ndb_writer import ndb_bytes

DATA = (TESTDATA / NDB_DB).read_bytes()


def test_fixture_is_what_the_writer_makes_of_the_sqlite_headers() -> None:
    import sqlite3

    conn = sqlite3.connect(f"{(TESTDATA / SQLITE_DB).as_uri()}?mode=ro&immutable=1", uri=True)
    rows = conn.execute("SELECT hnum, blob FROM Packages ORDER BY hnum").fetchall()
    conn.close()
    assert ndb_bytes([(h, bytes(b)) for h, b in rows]) == DATA


def test_same_packages_as_the_sqlite_database() -> None:
    result = parse_rpmdb_ndb(NDB_DB, DATA)
    assert result.problems == []
    assert result.packages == parse_rpmdb_sqlite(SQLITE_DB, (TESTDATA / SQLITE_DB).read_bytes()).packages


def test_purl_for_opensuse_and_sles() -> None:
    raw = next(p for p in parse_rpmdb_ndb(NDB_DB, DATA).packages if p.name == "bash")
    leap = CATALOGER.to_package(raw, Distro(id="opensuse-leap", version_id="15.5"), "/" + NDB_DB)
    assert leap.purl.startswith("pkg:rpm/opensuse/bash@5.1.8-4.el9?")
    sles = CATALOGER.to_package(raw, Distro(id="sles", version_id="15.5"), "/" + NDB_DB)
    assert sles.purl.startswith("pkg:rpm/sles/bash@5.1.8-4.el9?arch=x86_64&distro=sles-15.5&")


def test_stream_and_bytes_agree() -> None:
    assert CATALOGER.parse_stream is not None
    assert CATALOGER.parse_stream(NDB_DB, io.BytesIO(DATA)) == parse_rpmdb_ndb(NDB_DB, DATA)


def test_free_slots_are_skipped_and_many_slot_pages_read() -> None:
    blobs = real_blobs()
    data = ndb_bytes([(7, blobs["bash"]), (9, blobs["libcurl"])], slot_pages=3)
    result = parse_rpmdb_ndb(NDB_DB, data)
    assert result.problems == []
    assert [p.name for p in result.packages] == ["bash", "libcurl"]


def test_bad_header() -> None:
    assert parse_rpmdb_ndb(NDB_DB, b"RpmP").problems == [
        f"{NDB_DB}: file is 4 bytes, too short for an NDB header"
    ]
    assert parse_rpmdb_ndb(NDB_DB, b"X" * 64).problems == [f"{NDB_DB}: not an rpm NDB database (bad magic)"]
    bad = bytearray(DATA)
    struct.pack_into("<I", bad, 4, 3)
    assert parse_rpmdb_ndb(NDB_DB, bytes(bad)).problems == [f"{NDB_DB}: unsupported NDB version 3"]
    struct.pack_into("<I", bad, 4, 0)
    struct.pack_into("<I", bad, 12, 5000)
    assert parse_rpmdb_ndb(NDB_DB, bytes(bad)).problems == [f"{NDB_DB}: NDB header claims 5000 slot pages"]


def test_damaged_slots_and_blobs_are_problems() -> None:
    bad = bytearray(DATA)
    _, pkg, offset, _ = struct.unpack_from("<IIII", DATA, 32)
    struct.pack_into("<I", bad, offset * 16, 0xDEADBEEF)  # first blob's magic
    struct.pack_into("<I", bad, 32 + 16 * 2, 0)  # third slot's magic
    result = parse_rpmdb_ndb(NDB_DB, bytes(bad))
    assert [p.name for p in result.packages] == ["bash"]
    assert result.problems == [
        f"{NDB_DB}: package {pkg}: bad blob magic 0xdeadbeef",
        f"{NDB_DB}: bad slot magic 0x0; stopped reading slots",
    ]


def test_truncated_file() -> None:
    result = parse_rpmdb_ndb(NDB_DB, DATA[: len(DATA) - 100])
    assert len(result.packages) == 2
    assert len(result.problems) == 1
    assert "overruns the" in result.problems[0]


def test_slots_pointing_at_one_large_blob_are_read_within_the_file_size() -> None:
    # issue 18: NDB slots all pointing at one large blob made the reader hang; here a 1 MiB
    # header blob and 2,046 slots that all point at it (2 GiB if each were read)
    big = real_blobs()["bash"] + bytes(1024 * 1024)
    data = bytearray(ndb_bytes([(7, big)], slot_pages=8))
    _magic, pkg, offset, count = struct.unpack_from("<IIII", data, 32)
    for i in range(8 * 4096 // 16 - 2):
        struct.pack_into("<IIII", data, 32 + 16 * i, int.from_bytes(b"Slot", "little"), pkg, offset, count)
    result = parse_rpmdb_ndb(NDB_DB, bytes(data))
    assert [p.name for p in result.packages] == ["bash"]
    assert result.problems == [
        f"{NDB_DB}: package 7: headers read add up to over the file's {len(data)} bytes "
        "(records overlap); stopped reading"
    ]
