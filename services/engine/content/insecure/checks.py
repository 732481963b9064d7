"""The InsecureCode checks as pure functions: image config in, or one file's path, mode and bytes in.

Each function returns ``(check id, evidence)`` pairs; the analyzer turns them into
detections with the title, severity and rationale from ``checks.toml``. Evidence never
carries a secret (no password hash, no key material).
"""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

Found = tuple[str, str]  # (check id, evidence)

ROOT_USER = "IC001-root-user"
REMOTE_ADD = "IC002-remote-add"
SSH_PORT = "IC003-ssh-port"
NO_HEALTHCHECK = "IC004-no-healthcheck"
SETUID = "IC005-setuid"
SETGID = "IC006-setgid"
WORLD_WRITABLE_FILE = "IC007-world-writable-file"
WORLD_WRITABLE_DIR = "IC008-world-writable-dir"
AUTHORIZED_KEYS = "IC009-authorized-keys"
SHADOW_PASSWORD = "IC010-shadow-password"
SHADOW_EMPTY = "IC011-shadow-empty-password"
GIT_DIRECTORY = "IC012-git-directory"
PERMIT_ROOT_LOGIN = "IC013-permit-root-login"

ALL_CHECKS = (
    ROOT_USER,
    REMOTE_ADD,
    SSH_PORT,
    NO_HEALTHCHECK,
    SETUID,
    SETGID,
    WORLD_WRITABLE_FILE,
    WORLD_WRITABLE_DIR,
    AUTHORIZED_KEYS,
    SHADOW_PASSWORD,
    SHADOW_EMPTY,
    GIT_DIRECTORY,
    PERMIT_ROOT_LOGIN,
)

_ADD_URL = re.compile(r"(?:^|\s|\)\s*)ADD\s+(?:--\S+\s+)*(https?://\S+)")
_PERMIT_ROOT = re.compile(rb"(?im)^[ \t]*PermitRootLogin[ \t]+yes[ \t]*(?:#.*)?$")
_HASH_NAMES = {
    "1": "md5crypt",
    "2a": "bcrypt",
    "2b": "bcrypt",
    "2y": "bcrypt",
    "5": "sha256crypt",
    "6": "sha512crypt",
    "y": "yescrypt",
    "gy": "gost-yescrypt",
    "7": "scrypt",
}


def _inner(config: dict[str, Any]) -> dict[str, Any]:
    inner = config.get("config")
    return inner if isinstance(inner, dict) else {}


def config_checks(config: dict[str, Any]) -> Iterator[Found]:
    """Checks on the image config: user, exposed ports, healthcheck, history ``ADD`` of URLs.

    An empty config (a ``dir:`` target) has nothing to check.
    """
    if not config:
        return
    inner = _inner(config)
    user = str(inner.get("User") or "")
    name = user.split(":", 1)[0]
    if name in ("", "root", "0"):
        yield ROOT_USER, f"USER is {user!r}" if user else "no USER: the default user is root"
    ports = inner.get("ExposedPorts") or {}
    if isinstance(ports, dict) and any(str(p).split("/", 1)[0] == "22" for p in ports):
        yield SSH_PORT, "EXPOSE 22"
    health = inner.get("Healthcheck")
    test = health.get("Test") if isinstance(health, dict) else None
    if not test or test == ["NONE"]:
        yield NO_HEALTHCHECK, "no HEALTHCHECK in the image config"
    for n, item in enumerate(config.get("history") or [], 1):
        created_by = item.get("created_by") if isinstance(item, dict) else None
        if isinstance(created_by, str):
            for m in _ADD_URL.finditer(created_by):
                parts = urlsplit(m.group(1))
                # scheme and host only: a URL may carry credentials or tokens in its path or query
                yield REMOTE_ADD, f"history {n}: ADD {parts.scheme}://{parts.hostname or '?'}/…"


def mode_checks(path: str, mode: int, *, is_dir: bool, in_temp_dir: bool) -> Iterator[Found]:
    """setuid and setgid files; world-writable files and directories outside temp directories."""
    if not is_dir:
        if mode & stat.S_ISUID:
            yield SETUID, f"mode {mode & 0o7777:04o}"
        if mode & stat.S_ISGID:
            yield SETGID, f"mode {mode & 0o7777:04o}"
    if mode & stat.S_IWOTH and not in_temp_dir:
        sticky = " (sticky)" if is_dir and mode & stat.S_ISVTX else ""
        yield (WORLD_WRITABLE_DIR if is_dir else WORLD_WRITABLE_FILE), f"mode {mode & 0o7777:04o}{sticky}"


def _hash_name(field: str) -> str:
    if field.startswith("$"):
        scheme = field.split("$")[1] if field.count("$") >= 2 else ""
        return _HASH_NAMES.get(scheme, f"${scheme}$ hash")
    return "DES crypt" if len(field) == 13 else "hash"


def shadow_checks(data: bytes) -> Iterator[Found]:
    """Accounts in ``/etc/shadow`` with a usable password hash, or with no password at all.

    ``*`` and ``!``-prefixed fields are locked; ``x`` is a placeholder. The hash itself is
    never shown, only the account and the scheme.
    """
    for line in data.decode("utf-8", "replace").splitlines():
        parts = line.split(":")
        if len(parts) < 2 or not parts[0] or line.startswith("#"):
            continue
        user, field = parts[0], parts[1]
        if field == "":
            yield SHADOW_EMPTY, f"account {user}: empty password field"
        elif not field.startswith(("!", "*")) and field != "x":
            yield SHADOW_PASSWORD, f"account {user}: {_hash_name(field)}"


def sshd_checks(data: bytes) -> Iterator[Found]:
    """``PermitRootLogin yes`` in an sshd configuration file."""
    m = _PERMIT_ROOT.search(data)
    if m:
        line = data.count(b"\n", 0, m.start()) + 1
        yield PERMIT_ROOT_LOGIN, f"line {line}: PermitRootLogin yes"


def authorized_keys_checks(data: bytes) -> Iterator[Found]:
    """An ``authorized_keys`` file with at least one key: key types and count, no key material."""
    types: list[str] = []
    for raw in data.decode("utf-8", "replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        kind = next((f for f in fields if f.startswith(("ssh-", "ecdsa-", "sk-"))), "key")
        types.append(kind)
    if types:
        yield AUTHORIZED_KEYS, f"{len(types)} key(s): {', '.join(sorted(set(types)))}"


def git_checks(path: str) -> Iterator[Found]:
    """A ``.git/HEAD`` marks a repository checkout."""
    repo = path.rsplit("/.git/", 1)[0] if "/.git/" in path else "."
    yield GIT_DIRECTORY, f"repository at /{repo.lstrip('/')}" if repo != "." else "repository at /"


__all__ = [
    "ALL_CHECKS",
    "authorized_keys_checks",
    "config_checks",
    "git_checks",
    "mode_checks",
    "shadow_checks",
    "sshd_checks",
]
