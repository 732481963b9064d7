"""Composite GitHub actions: the actions their steps use."""

from pathlib import Path

from services.engine.catalogers.githubactions.parse_composite_action import parse_composite_action

HERE = Path(__file__).parent
REL = "testdata/srv/app/.github/actions/bootstrap/action.yml"


def test_composite_steps() -> None:
    result = parse_composite_action(REL, (HERE / REL).read_bytes())
    assert result.problems == []
    assert [(p.name, p.version, p.declared) for p in result.packages] == [
        ("actions/setup-go", "v5", True),
        ("actions/cache", "v4", True),
    ]


def test_a_docker_action_uses_nothing() -> None:
    data = b"name: x\nruns:\n  using: docker\n  image: Dockerfile\n"
    assert parse_composite_action("a/action.yml", data).packages == []
