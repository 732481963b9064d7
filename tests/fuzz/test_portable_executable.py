"""Property test: damaged .NET assemblies and native PE files are packages or problems, never exceptions."""

from __future__ import annotations

import io
import lzma

from hypothesis import given
from hypothesis import strategies as st

from services.engine.catalogers.dotnet.parse_portable_executable import (
    parse_portable_executable,
    parse_portable_executable_stream,
)
from tests.fuzz.mutate import assert_typed, fixture, mutated

SEEDS = [
    fixture("dotnet/testdata/app/Humanizer.dll"),
    fixture("dotnet/testdata/app/System.Data.Linq.dll"),
    fixture("dotnet/testdata/dotnet/shared/Microsoft.NETCore.App/8.0.8/coreclr.dll"),
    lzma.decompress(fixture("dotnet/testdata/opt/launcher/w32.exe.xz")),
]


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A fixture damaged in its headers (first 1 KiB), anywhere, or MZ followed by noise."""
    seed = draw(st.sampled_from(SEEDS))
    choice = draw(st.integers(0, 2))
    if choice == 0:
        return draw(mutated(seed, head=1024))
    if choice == 1:
        return draw(mutated(seed[:8192]))
    return b"MZ" + draw(st.binary(max_size=2048))


@given(damaged())
def test_portable_executable_is_typed_and_never_raises(data: bytes) -> None:
    path = "app/Damaged.dll"
    result = parse_portable_executable(path, data)
    assert_typed(result, path, data)
    assert len(result.packages) <= 1
    assert parse_portable_executable_stream(path, io.BytesIO(data)) == result
