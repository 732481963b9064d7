"""What analyzers ask of the layer walk: files by path pattern, each under a size cap."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

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
    rather than content. ``metadata_only`` hands over path and mode only (``data`` empty, no
    ``file``): the walk never reads such a file, whatever its size, and ignores ``max_bytes``,
    ``magic`` and ``accept`` for it. ``text_only`` drops files with a NUL byte in their first bytes
    (binaries) before the rest is read.

    ``accept``, for requests that take bytes, is a cheap test of a file's path and whole
    content (a keyword prefilter) run by the walk on the bytes it already holds: a file it
    rejects is not delivered, so files that cannot yield a result cost no hit and no analyzer
    call. It must reject only files whose scan would find nothing.
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
    metadata_only: bool = False
    accept: Callable[[str, bytes], bool] | None = None


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


def _one_regex(sources: Sequence[str]) -> re.Pattern[str] | None:
    return re.compile("(?:" + "|".join(f"(?:{x})" for x in sources) + ")\\Z") if sources else None


class RequestMatcher:
    """All requests compiled once: exact paths by dict lookup, globs as regexes.

    A request whose only pattern is ``**`` matches every path without a regex. A glob of the
    form ``**/NAME`` (no ``/`` in ``NAME``) is matched against the base name only, which saves
    the regex from trying every ``/`` of the path. Matching runs for every path of every layer,
    so the per-path cost is a dict lookup plus one regex over every base-name glob and one over
    every other glob (most paths match none); only a path they match is tried per request.
    """

    def __init__(self, requests: Sequence[FileRequest]) -> None:
        self.requests = tuple(requests)
        self._exact: dict[str, list[FileRequest]] = {}
        everything: list[FileRequest] = []
        # per request: a regex over the base name and one over the whole path (either may be None)
        self._globs: list[tuple[re.Pattern[str] | None, re.Pattern[str] | None, FileRequest]] = []
        all_base: list[str] = []
        all_full: list[str] = []
        for req in self.requests:
            globs = [p for p in req.patterns if any(c in p for c in "*?[")]
            for pattern in req.patterns:
                if pattern not in globs:
                    self._exact.setdefault(pattern, []).append(req)
            if "**" in globs:
                everything.append(req)
                continue
            base = [_glob_to_regex(g[3:]) for g in globs if g.startswith("**/") and "/" not in g[3:]]
            full = [_glob_to_regex(g) for g in globs if not (g.startswith("**/") and "/" not in g[3:])]
            if base or full:
                self._globs.append((_one_regex(base), _one_regex(full), req))
                all_base.extend(base)
                all_full.extend(full)
        self._everything = tuple(everything)
        # one pass in C over every glob decides whether any request's own regexes need trying
        self._any_base = _one_regex(all_base)
        self._any_full = _one_regex(all_full)

    def match(self, path: str) -> list[FileRequest]:
        """The requests that want ``path`` (usually none)."""
        found = list(self._exact.get(path, ()))
        if found:
            found.extend(r for r in self._everything if r not in found)
        else:
            found = list(self._everything)
        name = path[path.rfind("/") + 1 :]
        base_hit = self._any_base is not None and self._any_base.match(name) is not None
        full_hit = self._any_full is not None and self._any_full.match(path) is not None
        if base_hit or full_hit:
            for on_base, on_full, req in self._globs:
                hit = (base_hit and on_base is not None and on_base.match(name) is not None) or (
                    full_hit and on_full is not None and on_full.match(path) is not None
                )
                if hit and req not in found:
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
    return _one_regex([_glob_to_regex(p) for p in patterns]) or re.compile(r"(?!)")


__all__ = ["FileRequest", "RequestMatcher", "glob_matches", "globs_regex"]
