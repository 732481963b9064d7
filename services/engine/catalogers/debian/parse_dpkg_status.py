"""dpkg's database: ``var/lib/dpkg/status`` and distroless ``var/lib/dpkg/status.d/*``.

The format is RFC 822-style stanzas separated by blank lines (deb-control(5)). A
binary package's ``Source:`` field may carry the source version in parentheses when it
differs from the binary version (binNMUs); without it the source version is the
package's own.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

from services.engine.catalogers.interface import ParseResult, RawPackage
from services.engine.catalogers.problems import Problems

_SOURCE_RE = re.compile(r"^(?P<name>\S+)(?:\s+\((?P<version>[^)]+)\))?$")
_FIELD_RE = re.compile(r"^(?P<key>[A-Za-z0-9][A-Za-z0-9-]*):(?P<value>.*)$")
# The only fields read; the others (Description, Conffiles, ...) are checked for shape, not kept.
_WANTED = frozenset({"package", "version", "status", "source", "architecture"})
FIELD_MAX = 4096  # characters of one wanted field: package names and versions are far shorter


class _Stanza:
    """One stanza while its lines arrive: wanted fields as lists of parts, joined once (linear)."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.parts: dict[str, list[str]] = {}
        self.sizes: dict[str, int] = {}
        self.key = ""
        self.bad = ""  # the first malformed line

    def line(self, line: str) -> None:
        if self.bad:
            return
        if line[:1] in (" ", "\t"):
            if not self.key:
                self.bad = line
            elif self.key in self.parts:
                self._append(self.key, line.strip())
            return
        m = _FIELD_RE.match(line)
        if m is None:
            self.bad = line
            return
        self.key = m.group("key").lower()
        if self.key in _WANTED:
            self.parts[self.key] = []
            self.sizes[self.key] = 0
            self._append(self.key, m.group("value").strip())

    def _append(self, key: str, text: str) -> None:
        size = self.sizes[key] + len(text) + 1
        self.sizes[key] = size
        if size <= FIELD_MAX + 1:
            self.parts[key].append(text)

    def fields(self) -> tuple[dict[str, str], str]:
        """The wanted fields, and a problem (an over-long field) if any."""
        for key, size in self.sizes.items():
            if size > FIELD_MAX + 1:
                return {}, f"field {key.title()} is {size - 1} characters, over {FIELD_MAX}"
        return {k: "\n".join(v) for k, v in self.parts.items()}, ""


def _stanzas(text: str) -> Iterator[_Stanza]:
    """Stanzas one at a time, each with its 1-based starting line number; lines read lazily."""
    current: _Stanza | None = None
    for lineno, raw in enumerate(io.StringIO(text, newline="\n"), 1):
        line = raw.rstrip("\r\n")
        if line.strip() == "":
            if current is not None:
                yield current
                current = None
            continue
        if current is None:
            current = _Stanza(lineno)
        current.line(line)
    if current is not None:
        yield current


def _installed(status: str) -> bool:
    """Whether a Status field says the package is installed (absent in distroless status.d)."""
    if not status:
        return True
    words = status.split()
    return len(words) == 3 and words[2] in ("installed", "half-configured", "unpacked", "triggers-pending")


def _package(path: str, stanza: _Stanza, problems: Problems) -> RawPackage | None:
    """The raw package of one stanza, or None (a problem recorded, or not installed)."""
    where = f"{path}: stanza at line {stanza.start}"
    if stanza.bad:
        problems.add(f"{where}: malformed line {stanza.bad[:60]!r}")
        return None
    fields, too_long = stanza.fields()
    if too_long:
        problems.add(f"{where}: {too_long}")
        return None
    name = fields.get("package", "")
    version = fields.get("version", "")
    if not name or not version:
        problems.add(f"{where}: no {'Package' if not name else 'Version'} field")
        return None
    if not _installed(fields.get("status", "")):
        return None
    source_name, source_version = name, version
    if fields.get("source"):
        m = _SOURCE_RE.match(fields["source"])
        if m is None:
            problems.add(f"{path}: package {name}: malformed Source field {fields['source'][:80]!r}")
        else:
            source_name = m.group("name")
            source_version = m.group("version") or version
    return RawPackage(
        name=name,
        version=version,
        source_name=source_name,
        source_version=source_version,
        arch=fields.get("architecture", ""),
    )


def parse_dpkg_status(path: str, data: bytes) -> ParseResult:
    """Parse a dpkg status file into raw packages; malformed stanzas become problems.

    Linear in the file's size: lines are read lazily and continuation lines are collected
    only for the fields read, joined once. ``status.d/NAME.md5sums`` files sit beside
    distroless stanza files; they are file lists (read by ``services.engine.ownership``),
    not stanzas, and yield nothing here.
    """
    if path.endswith(".md5sums"):
        return ParseResult()
    text = data.decode("utf-8", errors="replace")
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    packages: list[RawPackage] = []
    problems = Problems(path)
    for stanza in _stanzas(text):
        raw = _package(path, stanza, problems)
        if raw is not None:
            packages.append(raw)
    return ParseResult(packages=packages, problems=problems.items())
