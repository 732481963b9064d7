"""Every ecosystem's ordering against its own tool's published test vectors.

Each ``vectors/<scheme>.txt`` names its source and licence in its header. A line is
``a <op> b`` (op ``<``, ``=`` or ``>``) or a chain ``a < b < c ...``, in which every
version must sort below every later one, as the upstream ordered lists require.
Every pair is also checked the other way round (antisymmetry), because the range
evaluator sorts events with these functions.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from services.vulndb.versions import SCHEMES, compare_versions, ecosystem_base

VECTORS = Path(__file__).parent / "vectors"
_OPS = {"<": -1, "=": 0, ">": 1}

# Vector file -> the OSV ecosystems whose ordering it checks.
FILES: dict[str, tuple[str, ...]] = {
    "dpkg.txt": ("Debian:12", "Ubuntu:22.04:LTS"),
    "apk.txt": ("Alpine:v3.20", "Wolfi", "Chainguard", "Alpaquita:stream"),
    "rpm.txt": (
        "Red Hat:enterprise_linux:9::baseos",
        "AlmaLinux:9",
        "Rocky Linux:9",
        "Oracle Linux:9",
        "Amazon Linux:2023",
        "openSUSE:Leap 15.5",
        "SUSE:Linux Enterprise Server 15 SP5",
        "Mageia:9",
        "openEuler:22.03-LTS",
        "Photon OS:5.0",
        "Azure Linux:3.0",
    ),
    "pypi.txt": ("PyPI",),
    "semver.txt": ("npm", "crates.io", "Hex"),
    "go.txt": ("Go",),
    "maven.txt": ("Maven",),
    "rubygems.txt": ("RubyGems",),
    "nuget.txt": ("NuGet",),
    "packagist.txt": ("Packagist",),
    "pub.txt": ("Pub",),
    "redhat-osv.txt": ("Red Hat:enterprise_linux:8::appstream", "Rocky Linux:8", "Oracle Linux:7"),
    "pypi-legacy.txt": ("PyPI",),
    "nuget-osv.txt": ("NuGet",),
    "maven-osv.txt": ("Maven",),
}


def _lines(path: Path) -> list[tuple[int, list[tuple[str, str, int]]]]:
    """(line number, [(a, b, expected sign), ...]) for every line of a vector file."""
    out = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        tokens = raw.split("#", 1)[0].split()
        if not tokens:
            continue
        versions, ops = tokens[0::2], tokens[1::2]
        assert len(versions) == len(ops) + 1, f"{path.name}:{number}"
        assert all(op in _OPS for op in ops), f"{path.name}:{number}"
        if len(ops) == 1:
            out.append((number, [(versions[0], versions[1], _OPS[ops[0]])]))
            continue
        assert set(ops) == {"<"}, f"{path.name}:{number}: chains are ascending"
        out.append((number, [(a, b, -1) for a, b in itertools.combinations(versions, 2)]))
    return out


def _pairs(path: Path) -> list[tuple[str, str, int]]:
    return [pair for _, pairs in _lines(path) for pair in pairs]


CASES = [
    pytest.param(ecosystems[0], pairs, id=f"{name}:{line}")
    for name, ecosystems in FILES.items()
    for line, pairs in _lines(VECTORS / name)
]


@pytest.mark.parametrize(("ecosystem", "pairs"), CASES)
def test_vector(ecosystem: str, pairs: list[tuple[str, str, int]]) -> None:
    for a, b, expected in pairs:
        assert (a, b, compare_versions(ecosystem, a, b)) == (a, b, expected)
        assert (b, a, compare_versions(ecosystem, b, a)) == (b, a, -expected)


@pytest.mark.parametrize(("name", "ecosystem"), [(n, e) for n, es in FILES.items() for e in es[1:]])
def test_ecosystems_sharing_a_scheme_order_alike(name: str, ecosystem: str) -> None:
    """The other ecosystems of a file resolve to the same ordering (names with release suffixes)."""
    primary = FILES[name][0]
    for a, b, want in _pairs(VECTORS / name):
        assert compare_versions(ecosystem, a, b) == compare_versions(primary, a, b) == want


def test_every_scheme_has_vectors() -> None:
    covered = {ecosystem_base(e) for ecosystems in FILES.values() for e in ecosystems}
    assert covered == set(SCHEMES)
    for name in FILES:
        assert len(_pairs(VECTORS / name)) >= 10, name


def test_every_vector_file_is_used_and_cites_its_source() -> None:
    assert {p.name for p in VECTORS.glob("*.txt")} == set(FILES)
    for name in FILES:
        header = (VECTORS / name).read_text(encoding="utf-8").split("\n", 4)[:4]
        assert any("Source:" in line for line in header), name
