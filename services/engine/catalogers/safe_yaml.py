"""YAML for catalogers: string scalars, a size cap, and a cap on what aliases may add.

PyYAML's loaders share one object for every alias of an anchor, so a few KB of nested
aliases ("billion laughs") load quickly but expand without bound the moment a parser walks
or stringifies the value (a pnpm lockfile whose ``integrity`` was such a value took
5.6 GiB). Here the document is built from libyaml's event stream with an explicit stack
(no recursion, so nesting is capped too), and every alias is charged the number of nodes it
stands for: past ``alias_nodes_max`` extra nodes, or ``aliases_max`` aliases, the document is
refused with a problem naming the file and the cap. Lockfiles never use aliases; the caps
leave room for hand-written files that do.

Every scalar stays a string, as with PyYAML's ``BaseLoader`` (no YAML 1.1 surprises such
as version 1.10 read as the float 1.1); tags are ignored; a later duplicate key wins.
"""

from __future__ import annotations

from typing import Any

import msgspec
import yaml

from services.engine.budget import BudgetExceeded, ScanBudget

_PARSER_LOADER: Any = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
_BOM = "\ufeff"


class YamlLimits(msgspec.Struct, frozen=True, kw_only=True):
    """What one YAML document may cost."""

    bytes_max: int = ScanBudget().parsed_file_bytes_max
    aliases_max: int = 10_000
    alias_nodes_max: int = 100_000  # nodes added by expanding aliases, over the whole document
    depth_max: int = 512


class YamlRefused(ValueError):
    """A document over one of the caps, or not valid YAML; the message says which."""


class _Open:
    """A collection being built: its value, pending mapping key, node weight and anchor."""

    __slots__ = ("anchor", "key", "value", "weight")

    def __init__(self, value: dict[str, Any] | list[Any], anchor: str | None) -> None:
        self.value = value
        self.anchor = anchor
        self.key: str | None = None
        self.weight = 1


class _Builder:
    """Turns events into dicts, lists and strings, charging aliases their expanded size."""

    def __init__(self, limits: YamlLimits) -> None:
        self.limits = limits
        self.stack: list[_Open] = []
        self.anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, expanded node count)
        self.aliases = 0
        self.alias_nodes = 0
        self.root: Any = None
        self.done = False

    def add(self, value: Any, weight: int, anchor: str | None) -> None:
        if anchor:
            self.anchors[anchor] = (value, weight)
        if not self.stack:
            self.root, self.done = value, True
            return
        top = self.stack[-1]
        top.weight += weight
        if isinstance(top.value, list):
            top.value.append(value)
        elif top.key is None:
            if not isinstance(value, str):
                raise YamlRefused("a mapping key is not a scalar")
            top.key = value
        else:
            top.value[top.key] = value
            top.key = None

    def alias(self, anchor: str) -> None:
        if anchor not in self.anchors:
            raise YamlRefused(f"alias *{anchor[:40]} names no anchor")
        value, weight = self.anchors[anchor]
        self.aliases += 1
        self.alias_nodes += weight
        if self.aliases > self.limits.aliases_max:
            raise YamlRefused(f"more than {self.limits.aliases_max} aliases")
        if self.alias_nodes > self.limits.alias_nodes_max:
            raise YamlRefused(f"aliases expand to more than {self.limits.alias_nodes_max} nodes")
        self.add(value, weight, None)

    def open(self, value: dict[str, Any] | list[Any], anchor: str | None) -> None:
        if len(self.stack) >= self.limits.depth_max:
            raise YamlRefused(f"nested more than {self.limits.depth_max} deep")
        self.stack.append(_Open(value, anchor))

    def close(self) -> None:
        top = self.stack.pop()
        self.add(top.value, top.weight, top.anchor)


def _build(text: str, limits: YamlLimits) -> Any:
    builder = _Builder(limits)
    for event in yaml.parse(text, Loader=_PARSER_LOADER):
        if builder.done and isinstance(event, yaml.NodeEvent | yaml.CollectionStartEvent):
            raise YamlRefused("more than one document")
        if isinstance(event, yaml.AliasEvent):
            builder.alias(event.anchor or "")
        elif isinstance(event, yaml.ScalarEvent):
            builder.add(event.value, 1, event.anchor)
        elif isinstance(event, yaml.MappingStartEvent):
            builder.open({}, event.anchor)
        elif isinstance(event, yaml.SequenceStartEvent):
            builder.open([], event.anchor)
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            builder.close()
    return builder.root


def load_yaml(path: str, data: bytes | str, what: str, limits: YamlLimits | None = None) -> tuple[Any, str]:
    """The document (dicts, lists, strings; None if empty), or ``None`` and a problem naming the file."""
    limits = limits if limits is not None else YamlLimits()
    if len(data) > limits.bytes_max:
        where = f"{path}: {what} of {len(data)} bytes"
        return None, str(BudgetExceeded("parsed_file_bytes_max", limits.bytes_max, where))
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    try:
        return _build(text.removeprefix(_BOM), limits), ""
    except YamlRefused as exc:
        return None, f"{path}: {what} refused: {exc}"
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or type(exc).__name__
        return None, f"{path}: {what} is not valid YAML{where}: {reason}"
