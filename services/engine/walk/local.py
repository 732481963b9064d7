"""A ``dir:`` target walked as the one layer of an image: iteratively, in sorted order, no symlinks followed.

``os.walk`` recurses once per directory level (a tree 1,500 levels deep raised ``RecursionError``);
this walk keeps its own stack of directories still to visit, so depth costs memory only, and the
path budgets (``path_depth_max``, ``path_bytes_max``) stop a hostile tree with a clear error.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

from services.common.errors import ImageError
from services.engine.walk.paths import text_name

if TYPE_CHECKING:
    from services.engine.walk.layer import LayerWalker


def _entries(full: str) -> tuple[list[str], list[str]]:
    """Sorted sub-directory and other names of one directory (symlinks to directories are files)."""
    dirs: list[str] = []
    files: list[str] = []
    with os.scandir(full) as it:
        for entry in it:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            (dirs if is_dir else files).append(entry.name)
    dirs.sort()
    files.sort()
    return dirs, files


def walk_directory(walker: LayerWalker, root: str) -> None:
    """Hand every requested file (and directory, to ``directories`` requests) under ``root`` to ``walker``."""
    root = os.path.abspath(root)
    if not os.path.isdir(root):
        raise ImageError(f"dir:{text_name(root)}: not a directory")
    where = f"dir:{text_name(root)}"
    stack: list[str] = [""]  # relative directories still to visit, popped last first
    while stack:
        rel = stack.pop()
        full = os.path.join(root, rel) if rel else root
        try:
            dirs, files = _entries(full)
        except OSError:
            continue  # unreadable directory: as os.walk did, its contents are not seen
        subs = [f"{rel}/{name}" if rel else name for name in dirs]
        for sub in subs:
            walker.check_path(text_name(sub), where)
            if walker.directories:
                _directory(walker, root, sub)
        for name in files:
            _file(walker, root, f"{rel}/{name}" if rel else name, where)
        stack.extend(reversed(subs))


def _file(walker: LayerWalker, root: str, rel: str, where: str) -> None:
    path = text_name(rel)
    wanted = walker.match(path)
    if not wanted:
        return
    walker.check_path(path, where)
    full = os.path.join(root, rel)
    try:
        st = os.lstat(full)
    except OSError as exc:
        for req in wanted:
            walker.skip(req, path, 0, text_name(str(exc)))
        return
    if not stat.S_ISREG(st.st_mode):
        return
    mode = st.st_mode & 0o7777
    eligible = walker.eligible(wanted, path, 0, True, mode, st.st_size)
    if not eligible:
        return
    try:
        with open(full, "rb") as fh:
            walker.deliver(eligible, path, 0, True, mode, fh, st.st_size).close()
    except OSError as exc:
        for req in eligible:
            walker.skip(req, path, 0, text_name(str(exc)))


def _directory(walker: LayerWalker, root: str, rel: str) -> None:
    path = text_name(rel)
    wanted = walker.dir_matcher.match(path)
    if not wanted:
        return
    try:
        mode = os.lstat(os.path.join(root, rel)).st_mode
    except OSError:
        return
    if not stat.S_ISDIR(mode):
        return
    for req in wanted:
        if not req.mode_mask or mode & req.mode_mask:
            walker.hit(req, path, 0, True, (mode & 0o7777) | stat.S_IFDIR, b"", None)
