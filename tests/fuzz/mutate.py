"""Strategies that damage real files, and the property every parser must keep on them.

The property: a parser hands back a typed result (a ``ParseResult`` of ``RawPackage``s and
problem strings naming the file) or a clear error of its own kind, never another exception,
and its result stays within budget (a capped number of problems, no more packages than the
input could describe).
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

from services.engine.catalogers.interface import ParseResult, RawPackage
from services.engine.catalogers.problems import PROBLEMS_PER_FILE

CATALOGERS = Path(__file__).parent.parent / "engine" / "catalogers"

_OPS = ("flip", "set", "truncate", "insert", "delete", "duplicate", "splice")
_INTERESTING = (b"\x00", b"\xff", b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x00\x00\x01\x00", b"\n", b":")


def fixture(rel: str) -> bytes:
    """A real fixture file of the catalogers' tests."""
    return (CATALOGERS / rel).read_bytes()


@st.composite
def mutated(draw: st.DrawFn, seed: bytes, head: int = 0) -> bytes:
    """``seed`` with one to eight random edits; ``head`` > 0 keeps the edits in its first bytes."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        span = min(len(data), head) if head else len(data)
        pos = draw(st.integers(0, max(0, span - 1)))
        op = draw(st.sampled_from(_OPS))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            value = draw(st.sampled_from(_INTERESTING))
            data[pos : pos + len(value)] = value
        elif op == "truncate":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=64))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "duplicate":
            size = draw(st.integers(1, 256))
            data[pos:pos] = data[pos : pos + size] * draw(st.integers(2, 16))
        else:
            other = draw(st.integers(0, max(0, len(data) - 1)))
            data[pos : pos + 16] = data[other : other + 16]
    return bytes(data)


def inputs(seed: bytes, head: int = 0) -> st.SearchStrategy[bytes]:
    """Damaged copies of ``seed``, and arbitrary bytes."""
    return st.one_of(mutated(seed, head), st.binary(max_size=2048))


def assert_typed(result: object, path: str, data: bytes, *, capped: bool = True) -> None:
    """The property: a typed result whose problems name the file, within budget."""
    assert isinstance(result, ParseResult)
    assert all(isinstance(raw, RawPackage) for raw in result.packages)
    for raw in result.packages:
        assert isinstance(raw.name, str)
        assert isinstance(raw.version, str)
        assert all(isinstance(v, str) for v in raw.metadata.values())
    assert all(isinstance(p, str) and p.startswith(path) for p in result.problems), result.problems
    assert len(result.packages) <= max(1, len(data))
    if capped:
        assert len(result.problems) <= PROBLEMS_PER_FILE + 1
