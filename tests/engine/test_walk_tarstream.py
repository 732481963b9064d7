"""The walk's own tar reader against ``tarfile`` on every header form writers produce."""

from __future__ import annotations

import io
import tarfile

import pytest

from services.engine.walk.tarstream import TarFormatError, TarStream

LONG = "usr/share/" + "/".join(f"dir{i:02d}-with-a-long-name" for i in range(8)) + "/file.txt"


def _tar(fmt: int, entries: list[tuple[str, bytes | None, str]]) -> bytes:
    """(name, data or None for a directory, hard-link target or "") in the given tarfile format."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for name, data, link in entries:
            info = tarfile.TarInfo(name)
            info.mode = 0o4755 if name.endswith(".bin") else 0o644
            if link:
                info.type, info.linkname = tarfile.LNKTYPE, link
                tar.addfile(info)
            elif data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _ours(raw: bytes) -> list[tuple[str, str, int, int, bool, bool, bytes]]:
    tar = TarStream(io.BytesIO(raw))
    out = []
    for m in tar.members():
        data = tar.read() if m.isreg() and not m.sparse else b""
        out.append((m.name.rstrip("/"), m.linkname, m.size, m.mode, m.isdir(), m.islnk(), data))
    return out


def _theirs(raw: bytes) -> list[tuple[str, str, int, int, bool, bool, bytes]]:
    out = []
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r|") as tar:
        for m in tar:
            fh = tar.extractfile(m) if m.isreg() else None
            data = fh.read() if fh is not None else b""
            out.append((m.name.rstrip("/"), m.linkname, m.size, m.mode, m.isdir(), m.islnk(), data))
    return out


ENTRIES = [
    ("etc", None, ""),
    ("etc/app.conf", b"x" * 700, ""),
    (LONG, b"deep", ""),  # over 100 bytes: GNU ././@LongLink, ustar prefix or a PAX path record
    ("opt/" + "n" * 120 + ".bin", b"\x7fELF", ""),
    ("opt/link-to-conf", None, "etc/app.conf"),
    ("caf\u00e9/\u65e5\u672c.txt", b"utf-8 names", ""),
    ("empty", b"", ""),
]


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
def test_every_header_form_reads_as_tarfile_reads_it(fmt: int) -> None:
    entries = [e for e in ENTRIES if fmt != tarfile.USTAR_FORMAT or len(e[0].encode()) <= 155 + 100]
    if fmt == tarfile.USTAR_FORMAT:
        entries = [e for e in entries if "n" * 120 not in e[0]]  # ustar cannot hold a 124-byte base name
    raw = _tar(fmt, entries)
    assert _ours(raw) == _theirs(raw)
    assert len(_ours(raw)) == len(entries)


def test_base256_sizes_and_a_bad_first_header() -> None:
    info = tarfile.TarInfo("big")
    info.size = 5
    block = bytearray(info.tobuf(format=tarfile.GNU_FORMAT))
    block[124:136] = b"\x80" + (5).to_bytes(11, "big")  # GNU base-256 size field
    block[148:156] = b" " * 8
    block[148:155] = f"{sum(block):06o}\0".encode()
    raw = bytes(block) + b"hello".ljust(512, b"\0") + bytes(1024)
    assert _ours(raw) == [("big", "", 5, 0o644, False, False, b"hello")]
    with pytest.raises(TarFormatError, match="bad checksum"):
        list(TarStream(io.BytesIO(b"garbage".ljust(512, b"!"))).members())


def test_a_negative_size_is_an_error_not_a_loop() -> None:
    info = tarfile.TarInfo("neg")
    block = bytearray(info.tobuf(format=tarfile.GNU_FORMAT))
    block[124:136] = b"\xff" * 12  # base-256 -1
    block[148:156] = b" " * 8
    block[148:155] = f"{sum(block):06o}\0".encode()
    with pytest.raises(TarFormatError, match="negative size"):
        list(TarStream(io.BytesIO(bytes(block) + bytes(1024))).members())
