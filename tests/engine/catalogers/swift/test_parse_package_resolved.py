"""Package.resolved v2 (pins from Trivy's happy-v2 fixture, plus a branch pin) and v1 (SwiftPM 5.5 shape)."""

from pathlib import Path

from services.engine.catalogers.swift.parse_package_resolved import parse_package_resolved, swift_to_package

HERE = Path(__file__).parent


def _parse(rel: str):
    return parse_package_resolved(rel, (HERE / rel).read_bytes())


def test_version_2_pins_resolved_to_a_release() -> None:
    result = _parse("testdata/srv/swiftapp/Package.resolved")
    assert result.problems == []
    purls = [swift_to_package(p, None, "/srv/swiftapp/Package.resolved").purl for p in result.packages]
    assert purls == [
        "pkg:swift/github.com/mattgallagher/cwlcatchexception@2.1.2",
        "pkg:swift/github.com/Quick/nimble@9.2.1",
        "pkg:swift/github.com/ReactiveCocoa/reactiveswift@7.1.1",
    ]  # swift-nio-ssl follows a branch: no version


def test_version_1_object_pins() -> None:
    result = _parse("testdata/srv/legacyswift/Package.resolved")
    assert [(p.name, p.version, p.namespace) for p in result.packages] == [
        ("swift-log", "1.4.2", "github.com/apple"),
        ("swift-nio", "2.39.0", "github.com/apple"),
    ]
    assert result.packages[1].metadata["revision"] == "d6e3762e0a5f7ede652559f53623baf11006e17c"


def test_bad_pins_and_files_are_problems() -> None:
    data = (
        b'{"pins": [{"identity": "a", "state": {"version": "1.0.0"}}, {"state": {"version": "2"}}, 7],'
        b' "version": 2}'
    )
    result = parse_package_resolved("p/Package.resolved", data)
    assert [p.key() for p in result.packages] == [("a", "1.0.0")]
    assert result.problems == [
        "p/Package.resolved: pin #1 has no identity",
        "p/Package.resolved: pin #2 is not an object with a state",
    ]
    assert parse_package_resolved("p/Package.resolved", b"[]").problems == [
        "p/Package.resolved: no 'pins' list: not a Package.resolved"
    ]
