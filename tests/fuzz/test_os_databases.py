"""Property tests: dpkg, apk and rpm databases (headers, Berkeley DB, NDB, SQLite) never crash."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.engine.catalogers.alpine.parse_apk_db import parse_apk_db
from services.engine.catalogers.debian.parse_dpkg_status import parse_dpkg_status
from services.engine.catalogers.rpm.header import HeaderError, RpmHeader, parse_header
from services.engine.catalogers.rpm.parse_rpmdb_bdb import parse_rpmdb_bdb
from services.engine.catalogers.rpm.parse_rpmdb_ndb import parse_rpmdb_ndb
from services.engine.catalogers.rpm.parse_rpmdb_sqlite import parse_rpmdb_sqlite
from tests.engine.catalogers.rpm.headers import real_blobs
from tests.fuzz.mutate import assert_typed, fixture, inputs

DPKG = fixture("debian/testdata/var/lib/dpkg/status")
APK = fixture("alpine/testdata/lib/apk/db/installed")
BDB = fixture("rpm/testdata/var/lib/rpm/Packages")
NDB = fixture("rpm/testdata/var/lib/rpm/Packages.db")
SQLITE = fixture("rpm/testdata/usr/lib/sysimage/rpm/rpmdb.sqlite")
HEADERS = list(real_blobs().values())

_DPKG_LINES = st.sampled_from(
    [
        "Package: p",
        "Version: 1:2.3-4",
        "Status: install ok installed",
        "Status: deinstall ok config-files",
        "Source: s (1.0-1)",
        "Source: (",
        "Architecture: amd64",
        "Description: d",
        " continued",
        "\tcontinued",
        " .",
        "",
        "no colon here",
        ":",
        "Package:",
        "\x00\xff",
    ]
)
_APK_LINES = st.sampled_from(
    ["P:p", "V:1.0-r0", "A:x86_64", "o:origin", "L:MIT", "F:usr/bin", "R:tool", "R:", "", "x", "PV", "::"]
)


@given(st.one_of(inputs(DPKG), st.lists(_DPKG_LINES, max_size=60).map(lambda ls: "\n".join(ls).encode())))
def test_dpkg_status(data: bytes) -> None:
    assert_typed(parse_dpkg_status("var/lib/dpkg/status", data), "var/lib/dpkg/status", data)


@given(st.one_of(inputs(APK), st.lists(_APK_LINES, max_size=60).map(lambda ls: "\n".join(ls).encode())))
def test_apk_db(data: bytes) -> None:
    assert_typed(parse_apk_db("lib/apk/db/installed", data), "lib/apk/db/installed", data)


@given(st.sampled_from(HEADERS).flatmap(lambda blob: inputs(blob, head=512)))
def test_rpm_header_is_a_header_or_a_header_error(blob: bytes) -> None:
    try:
        header = parse_header(blob)
    except HeaderError:
        return  # the one error the backends turn into a problem
    assert isinstance(header, RpmHeader)
    assert header.name
    assert all(isinstance(f, str) for f in header.files)


@given(inputs(BDB))
def test_rpm_berkeley_db(data: bytes) -> None:
    assert_typed(parse_rpmdb_bdb("var/lib/rpm/Packages", data), "var/lib/rpm/Packages", data)


@given(inputs(NDB, head=8192))
def test_rpm_ndb(data: bytes) -> None:
    assert_typed(parse_rpmdb_ndb("var/lib/rpm/Packages.db", data), "var/lib/rpm/Packages.db", data)


@settings(max_examples=60)  # each example copies the database to a temporary file
@given(inputs(SQLITE))
def test_rpm_sqlite(data: bytes) -> None:
    path = "usr/lib/sysimage/rpm/rpmdb.sqlite"
    assert_typed(parse_rpmdb_sqlite(path, data), path, data)
