"""``packages.config`` of a .NET Framework project, in the layout NuGet writes (no SDK here)."""

from pathlib import Path

from services.engine.catalogers.dotnet.parse_packages_config import parse_packages_config

HERE = Path(__file__).parent


def test_every_package_element() -> None:
    rel = "testdata/src/Legacy/packages.config"
    result = parse_packages_config(rel, (HERE / rel).read_bytes())
    assert result.problems == []
    assert [(p.name, p.version) for p in result.packages] == [
        ("Newtonsoft.Json", "12.0.1"),
        ("log4net", "2.0.8"),
        ("Microsoft.CodeDom.Providers.DotNetCompilerPlatform", "2.0.1"),
    ]
    assert result.packages[0].metadata == {"framework": "net472"}
    assert result.packages[2].metadata["development"] == "true"
    assert all(p.declared for p in result.packages)


def test_truncated_xml_is_a_problem() -> None:
    rel = "testdata-corrupt/app/packages.config"
    result = parse_packages_config(rel, (HERE / rel).read_bytes())
    assert result.packages == []
    assert result.problems[0].startswith(f"{rel}: not well-formed XML:")


def test_package_without_version_is_a_problem_and_dtds_are_refused() -> None:
    data = b'<packages><package id="A" version="1.0" /><package id="B" /></packages>'
    result = parse_packages_config("c/packages.config", data)
    assert [(p.name, p.version) for p in result.packages] == [("A", "1.0")]
    assert result.problems == ['c/packages.config: <package> without id or version: <package id="B" />']
    bomb = b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa">]><packages/>'
    assert parse_packages_config("d/packages.config", bomb).problems == [
        "d/packages.config: DTDs are not allowed in packages.config"
    ]
