"""conda-meta records, in the shape conda 23 writes them (numpy from conda-forge)."""

from pathlib import Path

from services.engine.catalogers.conda.parse_conda_meta import CATALOGER, conda_to_package, parse_conda_meta
from services.engine.requests import glob_matches

HERE = Path(__file__).parent
META = "opt/conda/conda-meta"


def test_one_record_one_package() -> None:
    rel = f"{META}/numpy-1.26.4-py311h64a7726_0.json"
    result = parse_conda_meta(rel, (HERE / "testdata" / rel).read_bytes())
    assert result.problems == []
    [raw] = result.packages
    pkg = conda_to_package(raw, None, "/" + rel)
    assert (pkg.name, pkg.version, pkg.licenses) == ("numpy", "1.26.4", ["BSD-3-Clause"])
    assert pkg.purl == (
        "pkg:conda/numpy@1.26.4?build=py311h64a7726_0"
        "&channel=https://conda.anaconda.org/conda-forge/linux-64&subdir=linux-64"
    )


def test_only_records_are_requested() -> None:
    patterns = CATALOGER.request.patterns
    assert any(glob_matches(p, f"{META}/numpy-1.26.4-py311h64a7726_0.json") for p in patterns)
    assert not any(glob_matches(p, f"{META}/history") for p in patterns)


def test_record_without_version_is_a_problem() -> None:
    rel = f"{META}/openssl-3.0.13-h7f8727e_0.json"
    result = parse_conda_meta(rel, (HERE / "testdata-corrupt" / rel).read_bytes())
    assert result.packages == []
    assert result.problems == [f"{rel}: conda-meta record has no name or version"]
