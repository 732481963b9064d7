"""The binary classifiers of ``classifiers.toml``, loaded once: file-name globs and version regexes."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from services.engine.requests import globs_regex

_TABLE = Path(__file__).with_name("classifiers.toml")


@dataclass(frozen=True)
class Classifier:
    """One kind of binary: which files it looks at and how its version string reads."""

    cls: str
    package: str
    purl: str  # without the version
    paths: re.Pattern[str]  # the file-name globs as one regex
    name: re.Pattern[str] | None  # a path regex whose "version" group fills {version}
    patterns: tuple[str, ...]  # byte regexes, as text (compiled per file when {version} is used)
    unless: str  # a package of the same file that, when found, rules this one out

    def contents(self, path: str) -> list[re.Pattern[bytes]] | None:
        """The byte regexes for ``path``, or None when the path is not this classifier's."""
        if not self.paths.match(path):
            return None
        version = ""
        if self.name is not None:
            m = self.name.match(path)
            if m is None:
                return None
            version = re.escape(m["version"])
        return [_compile(p.replace("{version}", version)) for p in self.patterns]


@cache
def _compile(pattern: str) -> re.Pattern[bytes]:
    return re.compile(pattern.encode("ascii"), re.DOTALL if pattern.startswith("(?s)") else 0)


@cache
def classifiers() -> tuple[Classifier, ...]:
    """Every classifier of the table, in its order."""
    table = tomllib.loads(_TABLE.read_text(encoding="utf-8"))
    return tuple(
        Classifier(
            cls=entry["class"],
            package=entry["package"],
            purl=entry["purl"],
            paths=globs_regex(tuple(entry["globs"])),
            name=re.compile(entry["name"]) if entry.get("name") else None,
            patterns=tuple(entry["patterns"]),
            unless=entry.get("unless", ""),
        )
        for entry in table["classifier"]
    )


def all_globs() -> tuple[str, ...]:
    """The union of every classifier's globs: what the cataloger asks the walk for."""
    table = tomllib.loads(_TABLE.read_text(encoding="utf-8"))
    return tuple(dict.fromkeys(g for entry in table["classifier"] for g in entry["globs"]))
