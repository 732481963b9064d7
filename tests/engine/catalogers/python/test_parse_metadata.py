"""Python core-metadata parsing, against a real wheel's METADATA and an egg-info file."""

from pathlib import Path

from services.engine.catalogers.python.parse_metadata import (
    normalize_name,
    parse_python_metadata,
    python_to_package,
)

HERE = Path(__file__).parent / "testdata"


def _parse(rel: str):
    return parse_python_metadata(rel, (HERE / rel).read_bytes())


def test_dist_info_metadata() -> None:
    result = _parse("opt/pyapp/site-packages/requests-2.19.0.dist-info/METADATA")
    assert result.problems == []
    [pkg] = result.packages
    assert (pkg.name, pkg.version, pkg.licenses) == ("requests", "2.19.0", ("Apache 2.0",))


def test_egg_info_file_and_purl_normalisation() -> None:
    [raw] = _parse("usr/lib/python3/dist-packages/PyYAML-5.3.egg-info").packages
    pkg = python_to_package(raw, None, "/usr/lib/python3/dist-packages/PyYAML-5.3.egg-info")
    assert pkg.purl == "pkg:pypi/pyyaml@5.3"
    assert pkg.name == "PyYAML"
    assert normalize_name("Zope.Interface__x") == "zope-interface-x"


def test_metadata_without_version_is_a_problem() -> None:
    result = parse_python_metadata("x.dist-info/METADATA", b"Metadata-Version: 2.1\nName: broken\n\n")
    assert result.packages == []
    assert result.problems == ["x.dist-info/METADATA: no Version field in Python package metadata"]
