"""Version ordering against the ecosystems' own tools, run for real on every pair.

rpm 4.18's ``rpm.vercmp`` (``rpmverParse`` + ``rpmverCmp``, the code ``rpm -U`` uses) and
``dpkg --compare-versions`` are the reference: every pair of a list of versions shaped like
real package data (RHEL module streams, epochs, tildes and carets, Debian backports and
security suffixes) plus the odd strings the tools still order (text before a colon, an
empty epoch or release) must get the tool's verdict. Both tools come from
``.ci/install-tools.sh``; a missing one fails in CI.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
from pathlib import Path

import pytest

from services.vulndb.versions import dpkg, rpm
from tests.harness.requirements import require

VECTORS = Path(__file__).parent / "vectors"

RPM_VERSIONS = [
    "1.0",
    "1.0-1",
    "1.0-",
    "0:1.0-1",
    "1:1.0-1",
    "01:1.0-1",
    ":1.0-1",
    "x:1.0-1",
    "1a:1.0",
    "abc",
    "-1",
    "1:",
    "1:2:3",
    "1.0~rc1-1",
    "1.0^git1-1",
    "1.0.1-1",
    "1:3.0.1-43.el9_0",
    "1:3.0.7-25.el9",
    "1:1.0.2k-19.el7",
    "1:1.0.2k-26.el7_9",
    "7.76.1-14.el9",
    "7.76.1-14.el9_0.4",
    "7.76.1-26.el9_3.2",
    "2.4.37-43.module+el8.5.0+13806+b30d9eec",
    "2.4.37-43.module+el8.5.0+13806+b30d9eec.1",
    "2.4.37-47.module+el8.6.0+14529+7b2cd9d8",
    "2.4.37-47.module_el8.6.0+2981+6a1d1a84",
    "8.0.26-1.module+el8.4.0+652+6de068a7",
    "3:10.3.28-1.module+el8.3.0+10472+7adc332a",
    "2.17-317.el7",
    "2.17-326.el7_9.3",
    "4.2.46-34.el7",
    "1.2.7-18.el7",
    "2.0.1a",
    "5.5p10",
    "10.0001",
    "20101121",
    "2_0",
    "a+",
]

DEB_VERSIONS = [
    "1.0",
    "1.0-1",
    "1:1.0-1",
    "1.0~rc1-1",
    "1.0+dfsg-1",
    "1.0+dfsg-1+deb12u1",
    "1.0+dfsg-1+deb12u10",
    "1.0+dfsg-1~bpo11+1",
    "7.88.1-10+deb12u5",
    "7.88.1-10+deb12u6",
    "7.88.1-10+deb12u12",
    "3.0.11-1~deb12u2",
    "3.0.15-1~deb12u1",
    "3.0.17-1~deb12u2",
    "1:1.2.13.dfsg-1",
    "2.36-9+deb12u7",
    "2.36-9+deb12u10",
    "3.1.2-7+deb12u1",
    "1.0a",
    "1.0.0",
    "0.9.8zh-1",
    "1.0-1ubuntu0.1",
    "1.0-1ubuntu0.22.04.1",
    "2:4.0",
    "1.0~~",
    "1.0~",
    "1.0+",
    # dpkg only warns about these (and orders them)
    "abc",
    "a1.0",
    "1_0",
    "1.0-a_b",
    "0:0-0:0",
    "1.0-r\u00e9v",
]


def _rpm_verdicts(pairs: list[tuple[str, str]]) -> list[int]:
    """rpm's own answers for ``pairs``, from one ``rpm --eval`` running a Lua loop."""
    quoted = ",".join(f"{{[[{a}]],[[{b}]]}}" for a, b in pairs)
    loop = "do o[#o+1]=rpm.vercmp(p[1],p[2]) end print(table.concat(o,' '))"
    lua = f"local o={{}} for _,p in ipairs({{{quoted}}}) {loop}"
    out = subprocess.run(
        ["rpm", "--eval", f"%{{lua: {lua}}}"], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    return [int(x) for x in out.split()]


def _dpkg_verdict(a: str, b: str) -> int:
    for op, result in (("lt", -1), ("eq", 0)):
        if subprocess.run(["dpkg", "--compare-versions", a, op, b], check=False).returncode == 0:
            return result
    return 1


def test_rpm_agrees_with_rpm_vercmp_on_every_pair() -> None:
    require(shutil.which("rpm") is not None, "rpm is needed as the rpm version-ordering reference")
    pairs = list(itertools.combinations(RPM_VERSIONS, 2)) + [(v, v) for v in RPM_VERSIONS]
    verdicts = _rpm_verdicts(pairs)
    assert len(verdicts) == len(pairs)
    mine = [rpm.compare(a, b) for a, b in pairs]
    wrong = [
        (a, b, want, got) for (a, b), want, got in zip(pairs, verdicts, mine, strict=True) if want != got
    ]
    assert wrong == []
    assert {-1, 0, 1} <= set(verdicts)  # the list exercises every verdict


def test_rpm_vectors_agree_with_rpm_vercmp() -> None:
    """The rpmvercmp.at facts in vectors/rpm.txt are what this rpm answers, too."""
    require(shutil.which("rpm") is not None, "rpm is needed as the rpm version-ordering reference")
    pairs: list[tuple[str, str]] = []
    for line in (VECTORS / "rpm.txt").read_text(encoding="utf-8").splitlines():
        text = line.split("#", 1)[0].split()
        pairs += [(a, b) for a, b in itertools.combinations(text[::2], 2)]
    assert len(pairs) > 50
    assert _rpm_verdicts(pairs) == [rpm.compare(a, b) for a, b in pairs]


@pytest.mark.parametrize("a", DEB_VERSIONS)
def test_dpkg_agrees_with_dpkg_compare_versions(a: str) -> None:
    require(shutil.which("dpkg") is not None, "dpkg is needed as the Debian version-ordering reference")
    for b in DEB_VERSIONS:
        assert (a, b, dpkg.compare(a, b)) == (a, b, _dpkg_verdict(a, b))
