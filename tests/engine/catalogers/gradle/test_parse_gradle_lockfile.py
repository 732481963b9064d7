"""gradle.lockfile (Gradle 6+) and the older per-configuration lockfiles, in the shape Gradle writes."""

from pathlib import Path

from services.engine.catalogers.gradle.parse_gradle_lockfile import gradle_to_package, parse_gradle_lockfile

HERE = Path(__file__).parent


def _parse(rel: str):
    return parse_gradle_lockfile(rel, (HERE / rel).read_bytes())


def test_every_locked_module_with_its_configurations() -> None:
    result = _parse("testdata/srv/gradleapp/gradle.lockfile")
    assert result.problems == []
    assert [(p.namespace, p.name, p.version) for p in result.packages] == [
        ("com.fasterxml.jackson.core", "jackson-annotations", "2.13.4"),
        ("com.fasterxml.jackson.core", "jackson-core", "2.13.4"),
        ("com.fasterxml.jackson.core", "jackson-databind", "2.13.4.2"),
        ("com.google.guava", "guava", "31.1-jre"),
        ("junit", "junit", "4.13.2"),
        ("org.hamcrest", "hamcrest-core", "1.3"),
    ]  # "empty=..." names configurations, not a module
    databind = result.packages[2]
    assert databind.metadata == {"configurations": "compileClasspath,runtimeClasspath"}
    pkg = gradle_to_package(databind, None, "/srv/gradleapp/gradle.lockfile")
    assert (pkg.type, pkg.purl, pkg.declared) == (
        "maven",
        "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.4.2",
        True,
    )


def test_per_configuration_lockfile_without_configurations() -> None:
    result = _parse("testdata/srv/legacy/gradle/dependency-locks/compileClasspath.lockfile")
    assert [(p.name, p.version, p.metadata) for p in result.packages] == [
        ("log4j-api", "2.14.1", {}),
        ("log4j-core", "2.14.1", {}),
    ]


def test_bad_line_is_a_problem_and_parsing_goes_on() -> None:
    rel = "testdata-corrupt/srv/broken/gradle.lockfile"
    result = _parse(rel)
    assert [p.name for p in result.packages] == ["slf4j-api"]
    assert result.problems == [
        f"{rel}: line 3: not group:artifact:version: 'org.slf4j:slf4j-simple=runtimeClasspath'"
    ]
    assert parse_gradle_lockfile("g/gradle.lockfile", b"\xff\xfe").problems == [
        "g/gradle.lockfile: not a UTF-8 text file"
    ]
