"""stack.yaml: Hackage packages pinned as extra-deps."""

from pathlib import Path

from services.engine.catalogers.haskell.hackage import hackage_to_package
from services.engine.catalogers.haskell.parse_stack_yaml import parse_stack_yaml

HERE = Path(__file__).parent
REL = "testdata/srv/stackapp/stack.yaml"


def test_hackage_extra_deps() -> None:
    result = parse_stack_yaml(REL, (HERE / REL).read_bytes())
    assert result.problems == []
    assert [(p.name, p.version) for p in result.packages] == [
        ("acme-missiles", "0.3"),
        ("servant", "0.20.1"),
        ("warp", "3.3.31"),
    ]  # the git mapping and the local path name no Hackage release
    assert result.packages[1].metadata["pkg_hash"].startswith("sha256:")
    assert hackage_to_package(result.packages[0], None, "/" + REL).purl == "pkg:hackage/acme-missiles@0.3"


def test_no_extra_deps_and_bad_yaml() -> None:
    assert parse_stack_yaml("stack.yaml", b"resolver: lts-22.7\n").packages == []
    assert "stack.yaml" in parse_stack_yaml("stack.yaml", b"extra-deps: [\n").problems[0]
