"""stack.yaml.lock as Stack 2.7 writes it: two Hackage packages, a git package and the snapshot."""

from pathlib import Path

from services.engine.catalogers.haskell.parse_stack_lock import parse_stack_lock

HERE = Path(__file__).parent
REL = "testdata/srv/stackapp/stack.yaml.lock"


def test_hackage_packages_only() -> None:
    result = parse_stack_lock(REL, (HERE / REL).read_bytes())
    assert result.problems == []
    assert [(p.name, p.version) for p in result.packages] == [
        ("HTTP", "4000.3.16"),
        ("optparse-applicative", "0.16.1.0"),
    ]  # servant comes from git; the lts-18.28 snapshot is not a package
    assert result.packages[0].metadata["pkg_hash"].startswith("sha256:6042643c")


def test_bad_references_are_problems() -> None:
    data = b"packages:\n- completed:\n    hackage: not a reference\n  original:\n    hackage: x\n"
    result = parse_stack_lock("s/stack.yaml.lock", data)
    assert result.packages == []
    assert result.problems == ["s/stack.yaml.lock: cannot read hackage reference 'not a reference'"]
    assert parse_stack_lock("s/stack.yaml.lock", b"packages: 3\n").problems == [
        "s/stack.yaml.lock: 'packages' is not a list"
    ]
