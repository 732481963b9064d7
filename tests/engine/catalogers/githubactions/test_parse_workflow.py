"""GitHub Actions workflows: actions and reusable workflows each job uses."""

from pathlib import Path

from services.engine.catalogers.githubactions.parse_workflow import parse_workflow
from services.engine.catalogers.githubactions.usage import github_to_package

HERE = Path(__file__).parent
REL = "testdata/srv/app/.github/workflows/ci.yml"


def test_actions_and_reusable_workflows() -> None:
    result = parse_workflow(REL, (HERE / REL).read_bytes())
    assert result.problems == []
    got = [(p.name, p.version, p.metadata["kind"]) for p in result.packages]
    assert got == [
        ("actions/checkout", "v4", "action"),
        ("./.github/actions/bootstrap", "", "action"),
        ("actions/setup-python", "0b93645e9fea7318ecaed2b359559ac225c90a2b", "action"),
        ("actions/cache/restore", "v3", "action"),
        ("actions/cache/save", "v3", "action"),
        ("octo-org/shared/.github/workflows/release.yml", "v1", "workflow"),
        ("./.github/workflows/deploy.yml", "", "workflow"),
    ]  # the docker:// step is an image, and checkout is listed once


def test_purls_carry_the_subpath_and_local_actions_have_none() -> None:
    result = parse_workflow(REL, (HERE / REL).read_bytes())
    purls = {p.name: github_to_package(p, None, "/" + REL).purl for p in result.packages}
    assert purls["actions/checkout"] == "pkg:github/actions/checkout@v4"
    assert purls["actions/cache/restore"] == "pkg:github/actions/cache@v3#restore"
    assert (
        purls["octo-org/shared/.github/workflows/release.yml"]
        == "pkg:github/octo-org/shared@v1#.github/workflows/release.yml"
    )
    assert purls["./.github/actions/bootstrap"] == ""


def test_bad_yaml_and_odd_shapes() -> None:
    bad = parse_workflow("w/ci.yml", b"jobs:\n  a: [\n")
    assert bad.packages == []
    assert "not valid YAML" in bad.problems[0]
    odd = parse_workflow("w/ci.yml", b"jobs:\n  a: 3\n  b:\n    steps: nope\n")
    assert odd.packages == []
    assert odd.problems == []
