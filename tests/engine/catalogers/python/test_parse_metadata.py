"""Python core-metadata parsing, against real METADATA / PKG-INFO files copied from installs.

``aiohttp`` and ``arrow`` come from this project's virtualenv (pip-installed wheels, metadata
2.4); ``lazr.restfulclient`` and ``xmltodict`` from Debian 12's ``python3-*`` packages (an
egg-info directory; the same PKG-INFO placed in an ``.egg``'s ``EGG-INFO``, as setuptools'
``bdist_egg`` lays it out); ``PyYAML-5.3.egg-info`` is a distutils single-file egg-info.
"""

from pathlib import Path

from services.engine.catalogers.python.parse_metadata import (
    CATALOGER,
    normalize_name,
    parse_python_metadata,
    python_to_package,
)
from services.engine.requests import glob_matches

HERE = Path(__file__).parent / "testdata"
CORRUPT = Path(__file__).parent / "testdata-corrupt"


def _parse(rel: str, root: Path = HERE):
    return parse_python_metadata(rel, (root / rel).read_bytes())


def test_dist_info_metadata() -> None:
    result = _parse("opt/pyapp/site-packages/requests-2.19.0.dist-info/METADATA")
    assert result.problems == []
    [pkg] = result.packages
    assert (pkg.name, pkg.version, pkg.licenses) == ("requests", "2.19.0", ("Apache 2.0",))
    assert pkg.files == ("opt/pyapp/site-packages/requests-2.19.0.dist-info/METADATA",)
    assert pkg.metadata == {"kind": "dist-info", "metadata_version": "2.0"}
    assert pkg.declared is False


def test_license_expression_wins_over_classifiers() -> None:
    [pkg] = _parse("opt/pyapp/site-packages/aiohttp-3.14.5.dist-info/METADATA").packages
    assert pkg.licenses == ("Apache-2.0 AND MIT",)


def test_license_from_classifiers_when_no_license_field() -> None:
    [pkg] = _parse("opt/pyapp/site-packages/arrow-1.4.0.dist-info/METADATA").packages
    assert (pkg.name, pkg.version, pkg.licenses) == ("arrow", "1.4.0", ("Apache Software License",))


def test_egg_info_directory_and_egg_pkg_info() -> None:
    [lazr] = _parse("usr/lib/python3/dist-packages/lazr.restfulclient-0.14.5.egg-info/PKG-INFO").packages
    pkg = python_to_package(
        lazr, None, "/usr/lib/python3/dist-packages/lazr.restfulclient-0.14.5.egg-info/PKG-INFO"
    )
    assert (pkg.name, pkg.purl, pkg.licenses) == (
        "lazr.restfulclient",
        "pkg:pypi/lazr-restfulclient@0.14.5",
        ["LGPL v3"],
    )
    assert pkg.metadata["kind"] == "egg-info"
    [egg] = _parse(
        "usr/local/lib/python3.11/dist-packages/xmltodict-0.13.0-py3.11.egg/EGG-INFO/PKG-INFO"
    ).packages
    assert (egg.name, egg.version, egg.licenses) == ("xmltodict", "0.13.0", ("MIT",))


def test_egg_info_file_and_purl_normalisation() -> None:
    [raw] = _parse("usr/lib/python3/dist-packages/PyYAML-5.3.egg-info").packages
    pkg = python_to_package(raw, None, "/usr/lib/python3/dist-packages/PyYAML-5.3.egg-info")
    assert pkg.purl == "pkg:pypi/pyyaml@5.3"
    assert pkg.name == "PyYAML"
    assert pkg.metadata["kind"] == "egg-info-file"
    assert normalize_name("Zope.Interface__x") == "zope-interface-x"


def test_every_fixture_path_is_requested() -> None:
    rels = [
        str(p.relative_to(HERE))
        for p in HERE.rglob("*")
        if p.is_file() and p.name != "INSTALLER" and p.suffix != ".egg"  # zipped eggs: parse_egg_archive
    ]
    python_installed = [r for r in rels if not r.startswith("srv/")]
    assert all(any(glob_matches(pat, r) for pat in CATALOGER.request.patterns) for r in python_installed)


def test_the_interpreters_own_egg_info_is_not_a_package() -> None:
    data = b"Metadata-Version: 1.0\nName: Python\nVersion: 2.7.18\nLicense: PSF license\n"
    assert parse_python_metadata("usr/lib/python2.7/lib-dynload/Python-2.7.egg-info", data).packages == []


def test_metadata_without_version_is_a_problem() -> None:
    result = parse_python_metadata("x.dist-info/METADATA", b"Metadata-Version: 2.1\nName: broken\n\n")
    assert result.packages == []
    assert result.problems == ["x.dist-info/METADATA: no Version field in Python package metadata"]


def test_truncated_metadata_is_a_problem() -> None:
    rel = "opt/pyapp/site-packages/truncated-1.0.dist-info/METADATA"
    result = _parse(rel, CORRUPT)
    assert result.packages == []
    assert result.problems == [f"{rel}: no Version field in Python package metadata"]
