"""SDK-style .NET project files: the PackageReferences they pin."""

from pathlib import Path

from services.engine.catalogers.dotnet.package import nuget_to_package
from services.engine.catalogers.dotnet.parse_project_file import parse_project_file

HERE = Path(__file__).parent
REL = "testdata/src/Billing.Api/Billing.Api.csproj"


def test_pinned_references() -> None:
    result = parse_project_file(REL, (HERE / REL).read_bytes())
    assert result.problems == []
    assert [(p.name, p.version) for p in result.packages] == [
        ("Serilog.AspNetCore", "8.0.1"),
        ("Serilog", "3.1.1"),  # from the $(SerilogVersion) property
        ("Npgsql.EntityFrameworkCore.PostgreSQL", "8.0.4"),  # a <Version> child element
        ("Swashbuckle.AspNetCore", "6.5.0"),
    ]  # the analyzer is build-time only; Microsoft.Extensions.Http and Polly take their version elsewhere
    assert result.packages[3].metadata == {"condition": "'$(Configuration)' == 'Debug'"}
    pkg = nuget_to_package(result.packages[0], None, "/src/Billing.Api/Billing.Api.csproj")
    assert (pkg.purl, pkg.declared) == ("pkg:nuget/Serilog.AspNetCore@8.0.1", True)


def test_not_a_project() -> None:
    assert parse_project_file("a.csproj", b"<Solution/>").problems == [
        "a.csproj: root element is <Solution>, not <Project>"
    ]
