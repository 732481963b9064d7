"""rpm's Berkeley DB ``Packages``: real headers in a hash file made by db5.3_load, checked with rpm -qa."""

from __future__ import annotations

import io
import struct

from schemas.records import Distro
from services.engine.catalogers.rpm.parse_rpmdb_bdb import CATALOGER, parse_rpmdb_bdb
from services.engine.catalogers.rpm.parse_rpmdb_sqlite import parse_rpmdb_sqlite
from tests.engine.catalogers.rpm.headers import BDB_DB, TESTDATA, real_blobs
from tests.engine.catalogers.rpm.oracle import rpm_qa

DATA = (TESTDATA / BDB_DB).read_bytes()
PAGE = struct.unpack_from("<I", DATA, 20)[0]


def _epoch_evr(version: str) -> str:
    return version if ":" in version else f"0:{version}"


def test_packages_equal_what_rpm_reads() -> None:
    result = parse_rpmdb_bdb(BDB_DB, DATA)
    assert result.problems == []
    ours = {(p.name, _epoch_evr(p.version), p.arch, p.metadata["sourcerpm"]) for p in result.packages}
    assert ours == rpm_qa(TESTDATA / BDB_DB, backend="bdb_ro")
    assert len(ours) == 3


def test_raw_fields_and_purl_for_centos() -> None:
    by_name = {p.name: p for p in parse_rpmdb_bdb(BDB_DB, DATA).packages}
    ssl = by_name["openssl-libs"]
    assert (ssl.version, ssl.source_name, ssl.source_version) == (
        "1:1.0.2k-19.el7",
        "openssl",
        "1.0.2k-19.el7",
    )
    assert ssl.files == ("usr/lib64/libcrypto.so.10", "usr/lib64/libssl.so.10")
    pkg = CATALOGER.to_package(by_name["libcurl"], Distro(id="centos", version_id="7"), "/" + BDB_DB)
    assert pkg.purl == (
        "pkg:rpm/centos/libcurl@7.29.0-59.el7_9.1?arch=x86_64&distro=centos-7&upstream=curl-7.29.0-59.el7_9.1.src.rpm"
    )


def test_stream_and_bytes_agree() -> None:
    assert CATALOGER.parse_stream is not None
    assert CATALOGER.parse_stream(BDB_DB, io.BytesIO(DATA)) == parse_rpmdb_bdb(BDB_DB, DATA)


def test_big_endian_file_reads_the_same() -> None:
    """A database written on a big-endian host: every page-header and metadata integer swapped."""
    swapped = bytearray(DATA)
    pages = len(DATA) // PAGE

    def swap(offset: int, fmt: str) -> None:
        struct.pack_into(">" + fmt, swapped, offset, *struct.unpack_from("<" + fmt, DATA, offset))

    for off in (8, 12, 16, 20, 28, 32):
        swap(off, "I")
    for n in range(1, pages):
        base = n * PAGE
        for off in (8, 12, 16):
            swap(base + off, "I")
        swap(base + 20, "H")
        swap(base + 22, "H")
        if DATA[base + 25] == 13:
            count = struct.unpack_from("<H", DATA, base + 20)[0]
            for i in range(count):
                offset = struct.unpack_from("<H", DATA, base + 26 + 2 * i)[0]
                swap(base + 26 + 2 * i, "H")
                if DATA[base + offset] == 3:
                    swap(base + offset + 4, "I")
                    swap(base + offset + 8, "I")
    result = parse_rpmdb_bdb(BDB_DB, bytes(swapped))
    assert result.problems == []
    assert sorted(p.name for p in result.packages) == sorted(
        p.name for p in parse_rpmdb_bdb(BDB_DB, DATA).packages
    )


def test_not_berkeley_db() -> None:
    assert parse_rpmdb_bdb(BDB_DB, b"SQLite format 3\x00" + bytes(600)).problems == [
        f"{BDB_DB}: not a Berkeley DB hash file (bad magic)"
    ]
    assert parse_rpmdb_bdb(BDB_DB, b"").problems == [
        f"{BDB_DB}: file is 0 bytes, too short for a Berkeley DB metadata page"
    ]


def test_bad_page_size_and_encryption() -> None:
    bad = bytearray(DATA)
    struct.pack_into("<I", bad, 20, 1000)
    assert parse_rpmdb_bdb(BDB_DB, bytes(bad)).problems == [f"{BDB_DB}: unexpected page size 1000"]
    bad = bytearray(DATA)
    bad[24] = 1
    assert parse_rpmdb_bdb(BDB_DB, bytes(bad)).problems == [f"{BDB_DB}: encrypted database (algorithm 1)"]


def test_truncated_file_keeps_what_it_can_read() -> None:
    cut = DATA[: len(DATA) - PAGE]
    result = parse_rpmdb_bdb(BDB_DB, cut)
    assert result.problems[0] == f"{BDB_DB}: file is {len(cut)} bytes, its metadata says {len(DATA)}"
    assert any("is truncated" in p for p in result.problems[1:])
    assert 0 < len(result.packages) < 3


def test_broken_overflow_chains_are_problems_per_record() -> None:
    overflow_pages = [n for n in range(1, len(DATA) // PAGE) if DATA[n * PAGE + 25] == 7]
    assert overflow_pages, "the fixture's headers should live on overflow pages"
    bad = bytearray(DATA)
    first = overflow_pages[0] * PAGE
    bad[first + 25] = 13 + 100  # not an overflow page any more
    result = parse_rpmdb_bdb(BDB_DB, bytes(bad))
    assert len(result.packages) == 2
    assert any(f"in an overflow chain has type {13 + 100}" in p for p in result.problems), result.problems
    looped = bytearray(DATA)
    struct.pack_into("<I", looped, first + 16, overflow_pages[0])  # the page points at itself
    struct.pack_into("<H", looped, first + 22, 8)  # and holds too little to finish the record
    result = parse_rpmdb_bdb(BDB_DB, bytes(looped))
    assert any("overflow chain loops" in p for p in result.problems), result.problems


def _one_chain_many_items(blob: bytes, pairs: int) -> bytes:
    """A Berkeley DB hash file whose ``pairs`` items all point at one overflow chain holding ``blob``.

    Page 0 is the fixture's metadata page (last page patched), page 1 a hash page of
    key/off-page pairs packed from the page's end, pages 2.. the overflow chain.
    """
    chunk = PAGE - 26
    chain = [blob[i : i + chunk] for i in range(0, len(blob), chunk)]
    last = 1 + len(chain)
    meta = bytearray(DATA[:PAGE])
    struct.pack_into("<I", meta, 32, last)
    page = bytearray(PAGE)
    struct.pack_into("<H", page, 20, 2 * pairs)
    page[25] = 13
    end = PAGE
    for n in range(pairs):
        for index, item in ((2 * n, b"\x01" + struct.pack("<I", n + 1)), (2 * n + 1, b"")):
            if not item:
                item = struct.pack("<BxxxII", 3, 2, len(blob))
            end -= len(item)
            page[end : end + len(item)] = item
            struct.pack_into("<H", page, 26 + 2 * index, end)
    pages = [bytes(meta), bytes(page)]
    for number, data in enumerate(chain, start=2):
        overflow = bytearray(PAGE)
        struct.pack_into("<I", overflow, 16, number + 1 if number < last else 0)  # next page
        struct.pack_into("<H", overflow, 22, len(data))  # bytes used on this page
        overflow[25] = 7
        overflow[26 : 26 + len(data)] = data
        pages.append(bytes(overflow))
    return b"".join(pages)


def test_items_pointing_at_one_overflow_chain_are_read_within_the_file_size() -> None:
    # issue 18: hash items all pointing at one large blob made the reader hang; here 150 items
    # point at one 64 KiB header on an overflow chain (10 MB if each were read, from 80 KB)
    sqlite = (TESTDATA / "usr/lib/sysimage/rpm/rpmdb.sqlite").read_bytes()
    bash = next(p for p in parse_rpmdb_sqlite("db", sqlite).packages if p.name == "bash")
    hostile = _one_chain_many_items(real_blobs()["bash"] + bytes(64 * 1024), 150)
    sound = parse_rpmdb_bdb(BDB_DB, _one_chain_many_items(real_blobs()["bash"], 1))
    assert (sound.packages, sound.problems) == ([bash], [])
    result = parse_rpmdb_bdb(BDB_DB, hostile)
    assert [p.name for p in result.packages] == ["bash"]
    assert result.problems == [
        f"{BDB_DB}: header 2: headers read add up to over the file's {len(hostile)} bytes "
        "(records overlap); stopped reading"
    ]
