"""Gradle dependency verification metadata: every verified component is a declared module."""

from pathlib import Path

from services.engine.catalogers.gradle.parse_gradle_lockfile import gradle_to_package
from services.engine.catalogers.gradle.parse_verification_metadata import parse_verification_metadata

HERE = Path(__file__).parent
REL = "testdata/srv/billing/gradle/verification-metadata.xml"


def test_components() -> None:
    result = parse_verification_metadata(REL, (HERE / REL).read_bytes())
    assert result.problems == []
    assert [(p.namespace, p.name, p.version) for p in result.packages] == [
        ("com.fasterxml.jackson.core", "jackson-databind", "2.15.3"),
        ("org.slf4j", "slf4j-api", "2.0.9"),
    ]
    pkg = gradle_to_package(result.packages[1], None, "/" + REL)
    assert pkg.purl == "pkg:maven/org.slf4j/slf4j-api@2.0.9"


def test_refused_and_broken_files() -> None:
    assert "DTDs are not allowed" in parse_verification_metadata("v.xml", b"<!DOCTYPE x []><x/>").problems[0]
    assert "not well-formed" in parse_verification_metadata("v.xml", b"<verification-metadata>").problems[0]
    assert parse_verification_metadata("v.xml", b"<project/>").problems == [
        "v.xml: root element is <project>, not <verification-metadata>"
    ]
    odd = (
        b'<verification-metadata><components><component group="g" name="n"/>'
        b"</components></verification-metadata>"
    )
    assert parse_verification_metadata("v.xml", odd).problems == [
        "v.xml: <component> without group, name or version"
    ]
