"""What analyzers ask of the layer walk: files by path pattern, each under a size cap."""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec


class FileRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A set of paths an analyzer wants to read.

    Patterns are shell globs over image paths without the leading slash
    (``var/lib/dpkg/status``, ``var/lib/dpkg/status.d/*``); ``*`` does not cross ``/``,
    ``**`` does. ``shadowed`` also delivers copies of the file that upper layers replaced
    or deleted, which catalogers use to find the layer that introduced a package.

    ``executable`` keeps only files with an execute bit; ``magic`` keeps only files whose
    first bytes start with one of the given prefixes (checked without reading the rest).
    ``spool`` hands the file over as a seekable stream (spilled to a temporary file past
    a small in-memory size) instead of bytes, so large jars and binaries cost constant
    memory. ``report_oversize=False`` drops files over ``max_bytes`` without an unknown,
    for requests that sample every file by design (content analyzers).

    ``mode_mask`` keeps only entries with one of those mode bits set (``0o6000``: setuid or
    setgid); ``directories`` also delivers directory entries (empty data, ``mode`` with
    ``stat.S_IFDIR`` set; file hits carry permission bits only), for checks on permissions
    rather than content. ``text_only`` drops files with a NUL byte in their first bytes
    (binaries) before the rest is read.
    """

    name: str
    patterns: tuple[str, ...]
    max_bytes: int = 16 * 1024 * 1024
    shadowed: bool = False
    executable: bool = False
    magic: tuple[bytes, ...] = ()
    spool: bool = False
    report_oversize: bool = True
    mode_mask: int = 0
    directories: bool = False
    text_only: bool = False


def _glob_to_regex(pattern: str) -> str:
    """Translate a glob where ``*`` stays within one path segment and ``**`` spans segments."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


class RequestMatcher:
    """All requests compiled once: exact paths by dict lookup, each request's globs as one regex.

    A request whose only pattern is ``**`` matches every path without a regex. Matching
    runs for every path of every layer, so the per-path cost is a dict lookup plus one
    regex per request, however many patterns the requests carry.
    """

    def __init__(self, requests: Sequence[FileRequest]) -> None:
        self.requests = tuple(requests)
        self._exact: dict[str, list[FileRequest]] = {}
        self._everything: list[FileRequest] = []
        self._globs: list[tuple[re.Pattern[str], FileRequest]] = []
        for req in self.requests:
            globs = [p for p in req.patterns if any(c in p for c in "*?[")]
            for pattern in req.patterns:
                if pattern not in globs:
                    self._exact.setdefault(pattern, []).append(req)
            if "**" in globs:
                self._everything.append(req)
            elif globs:
                joined = "|".join(f"(?:{_glob_to_regex(p)})" for p in globs)
                self._globs.append((re.compile(f"(?:{joined})\\Z"), req))

    def match(self, path: str) -> list[FileRequest]:
        """The requests that want ``path`` (usually none)."""
        found = list(self._exact.get(path, ()))
        for req in self._everything:
            if req not in found:
                found.append(req)
        for regex, req in self._globs:
            if req not in found and regex.match(path):
                found.append(req)
        return found


def glob_matches(pattern: str, path: str) -> bool:
    """Whether one pattern matches a path, with the same rules as ``RequestMatcher``."""
    if not any(c in pattern for c in "*?["):
        return pattern == path
    return re.match(_glob_to_regex(pattern) + r"\Z", path) is not None


def globs_regex(patterns: Sequence[str]) -> re.Pattern[str]:
    """One compiled regex whose ``match`` says whether any of ``patterns`` matches a path.

    Same rules as ``RequestMatcher``; one regex instead of one per pattern, for callers that
    test many paths against many globs and only need a yes or no. No patterns: matches nothing.
    """
    if not patterns:
        return re.compile(r"(?!)")
    return re.compile("(?:" + "|".join(f"(?:{_glob_to_regex(p)})\\Z" for p in patterns) + ")")


__all__ = ["FileRequest", "RequestMatcher", "glob_matches", "globs_regex"]
