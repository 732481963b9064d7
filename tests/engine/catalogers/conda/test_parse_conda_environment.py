"""environment.yml as ``conda env export`` writes it, with a channel-qualified spec and a pip section."""

from pathlib import Path

from services.engine.catalogers.conda.parse_conda_environment import parse_conda_environment
from services.engine.catalogers.conda.parse_conda_meta import conda_to_package

HERE = Path(__file__).parent
REL = "testdata/srv/condaenv/environment.yml"


def test_pinned_specs() -> None:
    result = parse_conda_environment(REL, (HERE / REL).read_bytes())
    assert result.problems == []
    assert [(p.name, p.version, p.metadata) for p in result.packages] == [
        ("_libgcc_mutex", "0.1", {"build": "conda_forge"}),
        ("numpy", "1.26.4", {"build": "py311h64a7726_0", "channel": "conda-forge"}),
        ("openssl", "3.0.13", {}),
        ("pandas", "2.2.1", {}),
        ("python", "3.11", {}),
    ]  # scipy>=1.10 is a range, requests and pip are unpinned, flask is in the pip section
    pkg = conda_to_package(result.packages[2], None, "/srv/condaenv/environment.yml")
    assert (pkg.purl, pkg.declared) == ("pkg:conda/openssl@3.0.13", True)


def test_bad_files() -> None:
    assert parse_conda_environment("e.yml", b"name: x\n").packages == []
    assert parse_conda_environment("e.yml", b"dependencies: numpy\n").problems == [
        "e.yml: 'dependencies' is not a list"
    ]
