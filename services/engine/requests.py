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


def _glob_key(glob: str) -> tuple[str, str]:
    """What a path needs for ``glob`` to match it: ``("name", N)``, a base name ``N`` (the glob's
    last segment is literal); ``("ext", E)``, a base name ending in ``.E`` (the literal tail after
    the last segment's last wildcard has a dot); else ``("prefix", P)``, to start with ``P`` (the
    glob's literal start, maybe empty), or, when that start is empty, ``("head", H)``, a base name
    starting with ``H`` (the last segment's literal start, when it has no ``**``). ``*`` and ``?``
    never match ``/``, and a ``**`` in the last segment leaves a wildcard in it, so each key is a
    necessary condition."""
    last = glob[glob.rfind("/") + 1 :]
    wild = max(last.rfind("*"), last.rfind("?"))
    if wild < 0:
        return "name", last
    tail = last[wild + 1 :]
    if "." in tail:
        return "ext", tail[tail.rfind(".") + 1 :]
    prefix = re.split(r"[*?]", glob, maxsplit=1)[0]  # what the path must start with
    head = re.split(r"[*?]", last, maxsplit=1)[0]
    if not prefix and head and "**" not in last:  # ``**/python*``: the base name starts with ``python``
        return "head", head
    return "prefix", prefix


class RequestMatcher:
    """All requests compiled once: exact paths by dict lookup, globs as regexes tried only on
    the paths that can match them.

    A request whose only pattern is ``**`` matches every path without a regex. Every other glob
    is keyed by what its path's base name must be (a literal last segment) or end with (a
    literal extension, ``**/*.jar``) or start with (``**/python*``), or by the path's literal
    prefix: matching runs for every path of every layer, so the per-path cost is three dict
    lookups (exact path, base name, extension), two ``startswith`` and a regex only for the few
    globs whose key the path has
    (most paths have none). A glob of the form ``**/NAME``
    (no ``/`` in ``NAME``) is matched against the base name only, which saves the regex from
    trying every ``/`` of the path.
    """

    def __init__(self, requests: Sequence[FileRequest]) -> None:
        self.requests = tuple(requests)
        self._exact: dict[str, list[FileRequest]] = {}
        everything: list[FileRequest] = []
        # every glob: (its request's position, its regex, whether it is matched on the base name)
        self._globs: list[tuple[int, re.Pattern[str], bool]] = []
        keyed: dict[str, dict[str, list[int]]] = {"name": {}, "ext": {}, "prefix": {}, "head": {}}
        for position, req in enumerate(self.requests):
            globs = [p for p in req.patterns if any(c in p for c in "*?[")]
            for pattern in req.patterns:
                if pattern not in globs:
                    self._exact.setdefault(pattern, []).append(req)
            if "**" in globs:
                everything.append(req)
                continue
            for glob in globs:
                on_name = glob.startswith("**/") and "/" not in glob[3:]
                source = _glob_to_regex(glob[3:] if on_name else glob)
                kind, key = _glob_key(glob)
                keyed[kind].setdefault(key, []).append(len(self._globs))
                self._globs.append((position, re.compile(source + "\\Z"), on_name))
        self._everything = tuple(everything)
        self._by_name = keyed["name"]
        self._by_ext = keyed["ext"]
        # the other globs, tried when the path starts with their prefix (any path, for ``""``) or
        # its base name with their head
        self._prefixes = tuple(keyed["prefix"])
        self._by_prefix = [gid for ids in keyed["prefix"].values() for gid in ids]
        self._heads = tuple(keyed["head"])
        self._by_head = list(keyed["head"].items())

    def match(self, path: str) -> list[FileRequest]:
        """The requests that want ``path`` (usually none)."""
        found = list(self._exact.get(path, ()))
        if found:
            found.extend(r for r in self._everything if r not in found)
        else:
            found = list(self._everything)
        name = path[path.rfind("/") + 1 :]
        by_name = self._by_name.get(name)
        dot = name.rfind(".")
        by_ext = self._by_ext.get(name[dot + 1 :]) if dot >= 0 else None
        by_prefix = self._by_prefix if self._prefixes and path.startswith(self._prefixes) else None
        by_head = None
        if self._heads and name.startswith(self._heads):
            by_head = [gid for head, ids in self._by_head if name.startswith(head) for gid in ids]
        if by_name is None and by_ext is None and by_prefix is None and by_head is None:
            return found
        hits: list[int] = []  # request positions, usually none
        for ids in (by_name, by_ext, by_prefix, by_head):
            for gid in ids or ():
                position, regex, on_name = self._globs[gid]
                if position not in hits and regex.match(name if on_name else path) is not None:
                    hits.append(position)
        if not hits:
            return found
        hits.sort()
        for position in hits:
            req = self.requests[position]
            if req not in found:
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
