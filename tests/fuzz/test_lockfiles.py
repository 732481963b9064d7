"""Property tests: lockfiles (pnpm, yarn, package-lock, poetry, uv, Cargo) and the YAML loader."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.engine.catalogers.interface import ParseResult
from services.engine.catalogers.javascript.parse_package_lock import parse_package_lock
from services.engine.catalogers.javascript.parse_pnpm_lock import parse_pnpm_lock
from services.engine.catalogers.javascript.parse_yarn_lock import parse_yarn_lock
from services.engine.catalogers.python.parse_poetry_lock import parse_poetry_lock
from services.engine.catalogers.python.parse_uv_lock import parse_uv_lock
from services.engine.catalogers.rust.parse_cargo_lock import parse_cargo_lock
from services.engine.catalogers.safe_yaml import YamlLimits, load_yaml
from tests.fuzz.mutate import assert_typed, fixture, inputs

LOCKFILES: list[tuple[str, Callable[[str, bytes], ParseResult], str, bool]] = [
    # (image path, parser, fixture, problems capped by the parser)
    ("srv/pnpm-lock.yaml", parse_pnpm_lock, "javascript/testdata/srv/pnpm-v9/pnpm-lock.yaml", True),
    ("srv/pnpm-lock.yaml", parse_pnpm_lock, "javascript/testdata/srv/pnpm-v5/pnpm-lock.yaml", True),
    ("srv/yarn.lock", parse_yarn_lock, "javascript/testdata/srv/yarn-berry/yarn.lock", False),
    ("srv/yarn.lock", parse_yarn_lock, "javascript/testdata/srv/yarn-classic/yarn.lock", False),
    ("srv/package-lock.json", parse_package_lock, "javascript/testdata/srv/lock-v3/package-lock.json", False),
    ("srv/package-lock.json", parse_package_lock, "javascript/testdata/srv/lock-v1/package-lock.json", False),
    ("srv/poetry.lock", parse_poetry_lock, "python/testdata/srv/poetryapp/poetry.lock", False),
    ("srv/uv.lock", parse_uv_lock, "python/testdata/srv/uvapp/uv.lock", False),
    ("srv/Cargo.lock", parse_cargo_lock, "rust/testdata/usr/src/rustapp/Cargo.lock", False),
]


@pytest.mark.parametrize(("path", "parse", "seed", "capped"), LOCKFILES, ids=[s for _, _, s, _ in LOCKFILES])
@given(data=st.data())
def test_lockfile(
    data: st.DataObject, path: str, parse: Callable[[str, bytes], ParseResult], seed: str, capped: bool
) -> None:
    raw = data.draw(inputs(fixture(seed)))
    assert_typed(parse(path, raw), path, raw, capped=capped)


_YAML_TOKENS = st.sampled_from(
    [
        "a:",
        " b",
        "- ",
        "&x ",
        "*x",
        "&y ",
        "*y",
        "[",
        "]",
        "{",
        "}",
        ", ",
        ": ",
        "\n",
        "  ",
        "'q'",
        '"d"',
        "? ",
        "---\n",
        "!!str ",
        "|\n  t",
        "#c",
    ]
)


@given(st.lists(_YAML_TOKENS, max_size=80).map("".join))
def test_yaml_loader_returns_a_document_or_a_problem(text: str) -> None:
    limits = YamlLimits(aliases_max=20, alias_nodes_max=200, depth_max=20)
    value, problem = load_yaml("f.yaml", text.encode(), "doc", limits)
    if problem:
        assert value is None
        assert problem.startswith("f.yaml: doc ")
        return
    # what was built stays within the caps: count nodes, aliases expanded
    count, todo = 0, [value]
    while todo:
        node = todo.pop()
        count += 1
        assert count <= 2 * len(text) + limits.alias_nodes_max + 1
        if isinstance(node, dict):
            assert all(isinstance(k, str) for k in node)
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
        else:
            assert node is None or isinstance(node, str)
