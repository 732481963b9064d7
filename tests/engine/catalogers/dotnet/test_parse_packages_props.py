"""Directory.Packages.props (NuGet central package management), in the shape the .NET SDK 8 templates use."""

from pathlib import Path

from services.engine.catalogers.dotnet.package import nuget_to_package
from services.engine.catalogers.dotnet.parse_packages_props import parse_packages_props

HERE = Path(__file__).parent
REL = "testdata/src/Central/Directory.Packages.props"


def test_items_with_a_literal_version() -> None:
    result = parse_packages_props(REL, (HERE / REL).read_bytes())
    assert result.problems == []
    assert [(p.name, p.version, p.metadata["item"]) for p in result.packages] == [
        ("Newtonsoft.Json", "13.0.1", "PackageVersion"),
        ("Microsoft.Extensions.Logging", "8.0.0", "PackageVersion"),
        ("Dapper", "2.1.28", "PackageVersion"),  # version as a child element
        ("Nerdbank.GitVersioning", "3.6.133", "GlobalPackageReference"),
    ]  # Serilog's version is a property, xunit's a range
    pkg = nuget_to_package(result.packages[0], None, "/src/Central/Directory.Packages.props")
    assert (pkg.purl, pkg.declared) == ("pkg:nuget/Newtonsoft.Json@13.0.1", True)


def test_item_without_a_name_is_a_problem() -> None:
    data = b'<Project><ItemGroup><PackageReference Version="1.0.0" /></ItemGroup></Project>'
    result = parse_packages_props("p/packages.props", data)
    assert (result.packages, result.problems) == (
        [],
        ["p/packages.props: <PackageReference> without Include or Update"],
    )
