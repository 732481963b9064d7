"""poetry.lock (lock-version 2.1). Poetry could not resolve against this machine's package index,
so the file is written in Poetry 2.1's layout from the same resolution uv made for
``testdata/srv/uvapp`` (same versions and file hashes), plus a git-sourced package."""

from pathlib import Path

from services.engine.catalogers.python.parse_poetry_lock import parse_poetry_lock

HERE = Path(__file__).parent


def test_every_locked_package_with_group_and_source() -> None:
    rel = "testdata/srv/poetryapp/poetry.lock"
    result = parse_poetry_lock(rel, (HERE / rel).read_bytes())
    assert result.problems == []
    found = {p.name: p for p in result.packages}
    assert {(n, p.version) for n, p in found.items()} >= {
        ("requests", "2.19.0"),
        ("urllib3", "1.23"),
        ("idna", "2.7"),
    }
    assert len(found) == 11
    assert found["requests"].metadata == {"groups": "main"}
    assert found["pytest"].metadata == {"groups": "dev"}
    assert found["fixture-lib"].metadata["source_type"] == "git"
    assert all(p.declared for p in result.packages)


def test_truncated_lock_is_a_problem() -> None:
    rel = "testdata-corrupt/srv/broken/poetry.lock"
    result = parse_poetry_lock(rel, (HERE / rel).read_bytes())
    assert result.packages == []
    [problem] = result.problems
    assert problem.startswith(f"{rel}: not a valid poetry.lock:")


def test_entry_without_version_is_a_problem() -> None:
    result = parse_poetry_lock(
        "a/poetry.lock", b'[[package]]\nname = "x"\n\n[[package]]\nname = "y"\nversion = "1"\n'
    )
    assert [(p.name, p.version) for p in result.packages] == [("y", "1")]
    assert result.problems == ["a/poetry.lock: package #1 has no name or version"]
