"""sbt-dependency-lock's build.sbt.lock: modules a compile or runtime configuration uses."""

from pathlib import Path

from services.engine.catalogers.gradle.parse_gradle_lockfile import gradle_to_package
from services.engine.catalogers.scala.parse_sbt_lock import parse_sbt_lock

HERE = Path(__file__).parent
REL = "testdata/srv/shop/build.sbt.lock"


def test_shipped_modules_only() -> None:
    result = parse_sbt_lock(REL, (HERE / REL).read_bytes())
    assert result.problems == []
    assert [(p.namespace, p.name, p.version) for p in result.packages] == [
        ("com.typesafe.akka", "akka-actor_2.13", "2.6.20"),
        ("org.scala-lang", "scala-library", "2.13.12"),
    ]  # scalatest is test-only
    pkg = gradle_to_package(result.packages[0], None, "/srv/shop/build.sbt.lock")
    assert (pkg.purl, pkg.declared) == ("pkg:maven/com.typesafe.akka/akka-actor_2.13@2.6.20", True)


def test_bad_documents_and_entries() -> None:
    assert "not a JSON lockfile" in parse_sbt_lock("b.lock", b"{").problems[0]
    assert parse_sbt_lock("b.lock", b'{"lockVersion": 1}').problems == ["b.lock: no dependencies list"]
    result = parse_sbt_lock(
        "b.lock", b'{"dependencies": [3, {"org": "a", "name": "b", "configurations": ["compile"]}]}'
    )
    assert result.problems == [
        "b.lock: dependencies[0] is not an object",
        "b.lock: dependencies[1] without org, name or version",
    ]
