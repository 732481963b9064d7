"""pylock.toml (PEP 751): published distributions; source trees without a version are left out."""

from pathlib import Path

from services.engine.catalogers.python.parse_pylock import CATALOGER, parse_pylock
from services.engine.requests import glob_matches

HERE = Path(__file__).parent


def test_locked_distributions() -> None:
    rel = "testdata/srv/pylockapp/pylock.toml"
    result = parse_pylock(rel, (HERE / rel).read_bytes())
    assert result.problems == []
    assert [(p.name, p.version) for p in result.packages] == [
        ("attrs", "25.4.0"),
        ("certifi", "2025.10.5"),
        ("charset-normalizer", "3.4.3"),
        ("idna", "3.10"),
        ("requests", "2.32.5"),
        ("urllib3", "2.5.0"),
    ]  # "webapp" (directory) and "toolkit" (vcs) carry no version: not published releases
    found = {p.name: p for p in result.packages}
    assert found["certifi"].metadata == {"index": "https://pypi.org/simple", "source": "wheels"}
    assert found["urllib3"].metadata["markers"] == 'python_version >= "3.9"'


def test_named_lock_files_are_requested() -> None:
    patterns = CATALOGER.request.patterns
    assert any(glob_matches(p, "srv/app/pylock.dev.toml") for p in patterns)
    assert not any(glob_matches(p, "srv/app/pyproject.toml") for p in patterns)


def test_distribution_without_version_is_a_problem() -> None:
    rel = "testdata-corrupt/srv/broken/pylock.toml"
    result = parse_pylock(rel, (HERE / rel).read_bytes())
    assert [p.name for p in result.packages] == ["attrs"]
    assert result.problems == [f"{rel}: package #2 has no name or version"]
