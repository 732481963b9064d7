"""pdm.lock: every locked package, development groups included, one per (name, version)."""

from pathlib import Path

from services.engine.catalogers.python.parse_metadata import python_to_package
from services.engine.catalogers.python.parse_pdm_lock import parse_pdm_lock

HERE = Path(__file__).parent


def test_packages_with_groups_and_merged_extras() -> None:
    rel = "testdata/srv/pdmapp/pdm.lock"
    result = parse_pdm_lock(rel, (HERE / rel).read_bytes())
    assert result.problems == []
    found = {p.name: p for p in result.packages}
    assert sorted((p.name, p.version) for p in result.packages) == [
        ("coverage", "7.4.1"),
        ("pytest", "8.0.1"),
        ("pytest-cov", "4.1.0"),
        ("requests", "2.19.0"),
        ("tomli", "2.0.1"),
    ]
    assert found["coverage"].metadata == {"groups": "dev", "extras": "toml"}
    assert found["requests"].metadata == {"groups": "default"}
    pkg = python_to_package(found["pytest-cov"], None, "/srv/pdmapp/pdm.lock")
    assert (pkg.purl, pkg.declared) == ("pkg:pypi/pytest-cov@4.1.0", True)


def test_entry_without_version_is_a_problem() -> None:
    rel = "testdata-corrupt/srv/broken/pdm.lock"
    result = parse_pdm_lock(rel, (HERE / rel).read_bytes())
    assert [(p.name, p.version) for p in result.packages] == [("click", "8.1.7")]
    assert result.problems == [f"{rel}: package #2 has no name or version"]
