"""The one boundary where asyncpg's exceptions become ``StoreError``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from services.common.errors import StoreError

# PostgresError: the server refused; InterfaceError/InternalClientError: the client side broke;
# OSError and TimeoutError: the server could not be reached.
_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError, TimeoutError)


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Re-raise database failures inside the block as ``StoreError("cannot {action}: ...")``."""
    try:
        yield
    except _ERRORS as exc:
        raise StoreError(f"cannot {action}: {type(exc).__name__}: {exc}") from exc
