"""List functions longer than a limit (default 60 lines) that do not say why.

    .venv/bin/python .ci/long_functions.py services/engine services/cli/scan.py ...   # exit 1 if any

A function may be longer when a comment says why: ``# long: REASON`` on the ``def`` line, on the
line just above it (above its decorators), or as the first line of its body. Length counts from
the ``def`` (decorators excluded) to the last line of the body, docstring and comments included.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

MARK = "# long:"


def _files(paths: list[str]) -> Iterator[Path]:
    for name in paths:
        path = Path(name)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.py") if "__pycache__" not in p.parts)
        elif path.suffix == ".py":
            yield path


def _explained(lines: list[str], node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    body_start = node.body[0].lineno
    candidates = [first - 1, node.lineno, body_start]
    # a comment line between the signature and the first statement (docstring included)
    candidates += range(node.lineno + 1, body_start)
    return any(0 < n <= len(lines) and MARK in lines[n - 1] for n in candidates)


def long_functions(path: Path, limit: int) -> Iterator[tuple[int, str, int]]:
    """(line, qualified name, length) of every unexplained function over ``limit`` lines in ``path``."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    tree = ast.parse(text, str(path))

    def visit(node: ast.AST, prefix: str) -> Iterator[tuple[int, str, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                length = (child.end_lineno or child.lineno) - child.lineno + 1
                if length > limit and not _explained(lines, child):
                    yield child.lineno, name, length
                yield from visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                yield from visit(child, f"{prefix}{child.name}.")

    yield from visit(tree, "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--limit", type=int, default=60)
    args = parser.parse_args(argv)
    found = 0
    for path in _files(args.paths):
        for line, name, length in long_functions(path, args.limit):
            print(f"{path}:{line}: {name} is {length} lines (over {args.limit}; say why with '{MARK} ...')")
            found += 1
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
