"""Declared Go dependencies: ``go.mod`` (the module's ``require`` list, with ``replace`` applied).

Directives come one per line or in a parenthesised block (``require ( … )``); ``//`` starts a
comment and ``// indirect`` marks a module needed only by dependencies. As the go command
does, a ``replace`` applies to a required module when its old path matches (and its old
version, when one is given): a module replacement (``=> other/path v1.2.3``) reports the new
module, a local directory replacement (``=> ../fork``) has no published version and is left
out. ``exclude`` removes a required version. Unlike syft (which adds every replacement
target, required or not) only required modules are reported, as the go command builds them.
Purls follow syft: ``pkg:golang/<path up to the last slash>/<last segment>@<version>``.
"""

from __future__ import annotations

import re

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.purl import build_purl
from services.engine.requests import FileRequest

_DIRECTIVES = frozenset(
    {"module", "go", "toolchain", "godebug", "require", "replace", "exclude", "retract", "tool", "ignore"}
)
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`|\S+')


def _tokens(text: str) -> list[str]:
    return [t[1:-1] if t[:1] in '"`' else t for t in _TOKEN.findall(text)]


def _split_comment(line: str) -> tuple[str, str]:
    code, _, comment = line.partition("//")
    return code.strip(), comment.strip()


def _statements(path: str, text: str, problems: list[str]) -> list[tuple[int, str, list[str], str]]:
    """(line, directive, arguments, comment) for every statement, blocks flattened."""
    out: list[tuple[int, str, list[str], str]] = []
    block: str | None = None
    block_start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        code, comment = _split_comment(raw)
        if not code:
            continue
        words = _tokens(code)
        verb = words[0]
        if block is not None:
            if code == ")":
                block = None
                continue
            if verb not in _DIRECTIVES:
                out.append((number, block, words, comment))
                continue
            # a directive inside a block: the block was never closed; read on from here
            problems.append(f"{path}: line {block_start}: {block} block is not closed")
            block = None
        if verb not in _DIRECTIVES:
            problems.append(f"{path}: line {number}: unknown directive {verb!r}")
            continue
        if words[1:] == ["("]:
            block, block_start = verb, number
            continue
        out.append((number, verb, words[1:], comment))
    if block is not None:
        problems.append(f"{path}: line {block_start}: {block} block is not closed")
    return out


def parse_go_mod(path: str, data: bytes) -> ParseResult:
    """Required modules after replace and exclude; a line that cannot be read is a problem."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return ParseResult(problems=[f"{path}: not a UTF-8 text file"])
    problems: list[str] = []
    module = ""
    required: dict[str, tuple[str, bool]] = {}  # path -> (version, indirect)
    replaces: list[tuple[str, str, str, str]] = []  # old path, old version, new path, new version
    excluded: set[tuple[str, str]] = set()
    for number, verb, args, comment in _statements(path, text, problems):
        if verb == "module" and args:
            module = args[0]
        elif verb == "require":
            if len(args) != 2:
                problems.append(f"{path}: line {number}: require needs a module path and a version")
                continue
            required[args[0]] = (args[1], comment.startswith("indirect"))
        elif verb == "replace":
            if "=>" not in args:
                problems.append(f"{path}: line {number}: replace without '=>'")
                continue
            arrow = args.index("=>")
            old, new = args[:arrow], args[arrow + 1 :]
            if len(old) not in (1, 2) or len(new) not in (1, 2):
                problems.append(f"{path}: line {number}: cannot read replace {' '.join(args)!r}")
                continue
            replaces.append(
                (old[0], old[1] if len(old) == 2 else "", new[0], new[1] if len(new) == 2 else "")
            )
        elif verb == "exclude" and len(args) == 2:
            excluded.add((args[0], args[1]))
    packages: list[RawPackage] = []
    for mod_path, (version, indirect) in sorted(required.items()):
        if (mod_path, version) in excluded:
            continue
        metadata = {"main_module": module} if module else {}
        if indirect:
            metadata["indirect"] = "true"
        for old_path, old_version, new_path, new_version in replaces:
            if old_path == mod_path and old_version in ("", version):
                metadata["replaced"] = f"{mod_path} {version}"
                mod_path, version = new_path, new_version
                break
        if not version:
            continue  # replaced by a local directory: no published version
        packages.append(
            RawPackage(
                name=mod_path,
                version=version,
                namespace=module_namespace(mod_path),
                declared=True,
                metadata=metadata,
            )
        )
    return ParseResult(packages=packages, problems=problems)


def module_namespace(module_path: str) -> str:
    """The purl namespace syft uses: the module path up to its last ``/``."""
    return module_path.rpartition("/")[0]


def go_mod_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    """``pkg:golang/golang.org/x/text@v0.3.0``: namespace ``golang.org/x``, name ``text``."""
    return PackageRecord(
        name=raw.name,
        version=raw.version,
        type="golang",
        purl=build_purl("golang", raw.name.rpartition("/")[2], raw.version, namespace=raw.namespace),
        locations=[location],
        declared=raw.declared,
        metadata=dict(raw.metadata),
    )


CATALOGER = Cataloger(
    name="go-mod",
    package_type="golang",
    request=FileRequest(name="go-mod", patterns=("**/go.mod",), max_bytes=4 * 1024 * 1024),
    parse=parse_go_mod,
    to_package=go_mod_to_package,
    tags=("language", "image", "directory", "declared"),
)
