"""Docker credential helpers: ``docker-credential-<name> get`` with the server URL on stdin.

The protocol (``github.com/docker/docker-credential-helpers``): the helper prints
``{"ServerURL": ..., "Username": ..., "Secret": ...}``; a ``Username`` of ``<token>`` means the
secret is an identity token. A helper with nothing for the server exits non-zero printing
``credentials not found in native keychain``. A helper is killed after ``timeout_s``; what it
writes is never logged or put in an error (a failing helper may echo secrets on stderr).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil

import msgspec

from services.common.errors import RegistryError
from services.oci.credentials.base import Credentials

__all__ = ["HelperRunner"]

_NOT_FOUND = b"credentials not found"
_TOKEN_USER = "<token>"
_MAX_OUTPUT = 1 << 20


class _HelperAnswer(msgspec.Struct):
    Username: str = ""
    Secret: str = ""


class HelperRunner:
    """Runs ``docker-credential-<name> get``; ``search_path`` is where to look (None: ``PATH``)."""

    def __init__(self, *, timeout_s: float = 10.0, search_path: str | None = None) -> None:
        self._timeout_s = timeout_s
        self._search_path = search_path

    async def get(self, helper: str, server: str) -> Credentials | None:
        """The helper's credentials for ``server``; None when it has none; ``RegistryError`` on failure."""
        program = f"docker-credential-{helper}"
        what = f"credential helper {program} for {server}"
        if not helper or "/" in helper:
            raise RegistryError(f"{what}: not a helper name")
        path = shutil.which(program, path=self._search_path)
        if path is None:
            raise RegistryError(f"{what}: not found on the search path")
        proc = await asyncio.create_subprocess_exec(
            path,
            "get",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, _err = await asyncio.wait_for(proc.communicate(server.encode()), self._timeout_s)
        except TimeoutError as exc:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise RegistryError(f"{what}: no answer within {self._timeout_s:g}s (killed)") from exc
        if proc.returncode != 0:
            if _NOT_FOUND in out.lower():
                return None
            raise RegistryError(f"{what}: exit status {proc.returncode} (its output is not shown: secrets)")
        if len(out) > _MAX_OUTPUT:
            raise RegistryError(f"{what}: answer larger than {_MAX_OUTPUT} bytes")
        try:
            answer = msgspec.json.decode(out, type=_HelperAnswer)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise RegistryError(f"{what}: the answer is not the helper protocol's JSON") from exc
        if not answer.Secret:
            return None
        if answer.Username == _TOKEN_USER:
            return Credentials(username=_TOKEN_USER, identity_token=answer.Secret)
        return Credentials(answer.Username, answer.Secret)
