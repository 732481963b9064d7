"""Property tests: ELF, PE and Mach-O headers read as executables or refused with ExecutableError."""

from __future__ import annotations

import io
import lzma
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.engine.executable import ALL_MAGICS, Executable, ExecutableError, read_executables
from tests.fuzz.mutate import fixture, mutated

BINARIES = {
    name: lzma.decompress(fixture(f"golang/testdata/gobin/{name}.xz"))
    for name in ("gofixture-linux-amd64", "gofixture-darwin-arm64", "gofixture-windows-386.exe")
}


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A real Go binary damaged in its headers (the first 4 KiB) or its tail (ELF section headers)."""
    data = BINARIES[draw(st.sampled_from(sorted(BINARIES)))]
    if draw(st.booleans()):
        return draw(mutated(data, head=4096))
    tail = data[-8192:]
    return data[:-8192] + draw(mutated(tail))


def _magic_then_noise() -> st.SearchStrategy[bytes]:
    return st.tuples(st.sampled_from(ALL_MAGICS), st.binary(max_size=4096)).map(lambda t: t[0] + t[1])


@given(st.one_of(damaged(), _magic_then_noise()))
def test_read_executables_returns_images_or_raises_its_own_error(data: bytes) -> None:
    try:
        images = read_executables(io.BytesIO(data))
    except ExecutableError:
        return  # the one error the readers' callers expect
    assert images
    assert all(isinstance(image, Executable) for image in images)
    for image in images:
        for section in image.sections:
            assert section.offset >= 0
            assert section.size >= 0


def test_a_section_table_offset_past_any_file_is_refused_not_an_overflow() -> None:
    """Found by the long fuzz run: an ELF header naming a section table at 2**64 - 16 made seek() raise
    OverflowError, which no caller expected."""
    header = bytearray(64)
    header[0:7] = b"\x7fELF\x02\x01\x01"
    struct.pack_into("<HHIQQQIHHHHHH", header, 16, 2, 0x3E, 1, 0, 0, 2**64 - 16, 0, 64, 56, 0, 64, 1, 0)
    with pytest.raises(ExecutableError, match="bad offset"):
        read_executables(io.BytesIO(bytes(header)))
