"""pom.xml: the project and the dependencies one file resolves (properties, parent coordinates,
its own dependencyManagement)."""

from pathlib import Path

from services.engine.catalogers.gradle.parse_gradle_lockfile import gradle_to_package
from services.engine.catalogers.java.parse_pom_xml import parse_pom_xml

HERE = Path(__file__).parent
REL = "testdata/srv/orders/pom.xml"


def test_project_and_resolved_dependencies() -> None:
    result = parse_pom_xml(REL, (HERE / REL).read_bytes())
    assert result.problems == []
    got = [(p.namespace, p.name, p.version, p.metadata.get("scope", "")) for p in result.packages]
    assert got == [
        ("com.example.platform", "orders-service", "3.2.0", ""),  # group and version from <parent>
        ("com.fasterxml.jackson.core", "jackson-databind", "2.15.3", "compile"),  # property of a property
        ("org.apache.commons", "commons-text", "1.10.0", "compile"),  # this file's dependencyManagement
        ("com.example.platform", "orders-api", "3.2.0", "compile"),
        ("jakarta.servlet", "jakarta.servlet-api", "6.0.0", "provided"),
    ]  # spring-boot-starter-web is managed by the parent, junit is test-only, guava is a range
    assert result.packages[0].metadata == {"root": "true"}
    pkg = gradle_to_package(result.packages[1], None, "/srv/orders/pom.xml")
    assert (pkg.purl, pkg.declared) == ("pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.15.3", True)


def test_circular_properties_and_bad_files() -> None:
    pom = (
        b"<project><groupId>g</groupId><artifactId>a</artifactId><version>${v}</version>"
        b"<properties><v>${w}</v><w>${v}</w></properties></project>"
    )
    assert parse_pom_xml("p/pom.xml", pom).packages == []
    assert "DTDs are not allowed" in parse_pom_xml("p/pom.xml", b"<!DOCTYPE x []><project/>").problems[0]
    assert "not well-formed" in parse_pom_xml("p/pom.xml", b"<project>").problems[0]
    assert parse_pom_xml("p/pom.xml", b"<settings/>").problems == [
        "p/pom.xml: root element is <settings>, not <project>"
    ]
