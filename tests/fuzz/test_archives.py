"""Property tests: Java archives, damaged or nested, give packages or problems within the budget."""

from __future__ import annotations

import io
import zipfile

from hypothesis import given, settings
from hypothesis import strategies as st

from services.engine.budget import ScanBudget
from services.engine.catalogers.java.parse_java_archive import parse_java_archive
from tests.fuzz.mutate import assert_typed, fixture, inputs

CLI = fixture("java/testdata/usr/share/java/commons-cli-1.5.0.jar")
AOP = fixture("java/testdata/usr/share/java/aopalliance-1.0.jar")
BUDGET = ScanBudget(archive_expanded_bytes_max=4 * 1024 * 1024, archive_depth_max=3)


def _nest(inner: bytes, names: list[str], stored: bool) -> bytes:
    buf = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name in names:
            zf.writestr(name, inner)
    return buf.getvalue()


@st.composite
def nested(draw: st.DrawFn) -> bytes:
    """A jar holding copies of (a damaged) jar, themselves nested up to five levels."""
    data = draw(inputs(draw(st.sampled_from([CLI, AOP])), head=draw(st.sampled_from([0, 256]))))
    for level in range(draw(st.integers(1, 5))):
        count = draw(st.integers(1, 4))
        names = [f"lib/l{level}-{i}-1.0.jar" for i in range(count)]
        data = _nest(data, names, draw(st.booleans()))
    return data


@settings(max_examples=100)
@given(st.one_of(inputs(CLI), inputs(AOP, head=512), nested()))
def test_java_archive(data: bytes) -> None:
    result = parse_java_archive("opt/app.jar", data, BUDGET)
    assert_typed(result, "opt/app.jar", data)
    # nested archives are never read past the depth budget
    assert all(
        p.metadata.get("path_in_archive", "").count(":") < BUDGET.archive_depth_max for p in result.packages
    )
