"""The catalogers' YAML loader: string scalars like PyYAML's BaseLoader, with size, alias and depth caps."""

from __future__ import annotations

import yaml

from services.engine.catalogers.safe_yaml import YamlLimits, load_yaml

DOCS = [
    "a: 1\nb: [x, 1.10, {c: ~}]\n",
    "- &a {k: v}\n- *a\n- <<: *a\n  k2: w\n",
    "lockfileVersion: '9.0'\nimporters:\n  .:\n    dependencies: {}\n",
    "",
    "plain scalar",
]


def test_documents_load_as_base_loader_loads_them() -> None:
    for doc in DOCS:
        assert load_yaml("f.yaml", doc.encode(), "doc") == (yaml.load(doc, Loader=yaml.BaseLoader), "")


def test_each_cap_is_a_problem_naming_the_file() -> None:
    limits = YamlLimits(aliases_max=2, alias_nodes_max=50, depth_max=3, bytes_max=100)
    cases = {
        "- &a [x]\n- *a\n- *a\n- *a\n": "refused: more than 2 aliases",
        "- &a [" + ", ".join(["x"] * 28) + "]\n- *a\n- *a\n": "refused: aliases expand to more than 50 nodes",
        "[[[[x]]]]": "refused: nested more than 3 deep",
        "x: " + "y" * 200: "of 203 bytes: scan budget parsed_file_bytes_max exceeded",
        "? [k]\n: v\n": "refused: a mapping key is not a scalar",
        "a: 1\n---\nb: 2\n": "refused: more than one document",
        "- *nowhere\n": "refused: alias *nowhere names no anchor",
        "a: [\n": "is not valid YAML at line 2: did not find expected node content",
    }
    for doc, reason in cases.items():
        value, problem = load_yaml("dir/f.yaml", doc.encode(), "doc", limits)
        assert value is None
        assert problem.startswith("dir/f.yaml: doc ")
        assert reason in problem, (doc, problem)


def test_deep_nesting_needs_no_recursion() -> None:
    # 900 levels: under libyaml's own limit (1000), over what a recursive builder could take
    # with a lowered recursion limit; the explicit stack builds it
    value, problem = load_yaml(
        "f.yaml", ("[" * 900 + "x" + "]" * 900).encode(), "doc", YamlLimits(depth_max=1000)
    )
    assert problem == ""
    depth = 0
    while isinstance(value, list):
        value, depth = value[0], depth + 1
    assert (depth, value) == (900, "x")
    _, problem = load_yaml("f.yaml", ("[" * 5000 + "]" * 5000).encode(), "doc", YamlLimits(depth_max=10_000))
    assert problem == "f.yaml: doc is not valid YAML at line 1: exceeded maximum nesting depth"
