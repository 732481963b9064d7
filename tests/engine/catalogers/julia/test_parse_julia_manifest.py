"""Manifest.toml in Julia 1.9's format 2.0 and the older format 1.0 (shapes Pkg writes)."""

from pathlib import Path

from services.engine.catalogers.julia.parse_julia_manifest import julia_to_package, parse_julia_manifest

HERE = Path(__file__).parent


def _parse(rel: str):
    return parse_julia_manifest(rel, (HERE / rel).read_bytes())


def test_format_2_registered_packages_only() -> None:
    result = _parse("testdata/srv/juliaapp/Manifest.toml")
    assert result.problems == []
    assert [(p.name, p.version) for p in result.packages] == [
        ("JSON", "0.21.4"),
        ("Parsers", "2.7.2"),
        ("PrecompileTools", "1.2.0"),
    ]  # Dates and Mmap are standard libraries: no version
    pkg = julia_to_package(result.packages[0], None, "/srv/juliaapp/Manifest.toml")
    assert pkg.purl == "pkg:julia/JSON@0.21.4?uuid=682c06a0-de6a-54ab-a142-c8b1cf79cde6"


def test_format_1_top_level_tables() -> None:
    result = _parse("testdata/srv/oldjulia/Manifest.toml")
    assert [(p.name, p.version) for p in result.packages] == [("HTTP", "0.8.19")]


def test_not_toml_is_a_problem() -> None:
    result = parse_julia_manifest("j/Manifest.toml", b"[[deps.JSON]\n")
    assert result.problems[0].startswith("j/Manifest.toml: not a valid Manifest.toml")
