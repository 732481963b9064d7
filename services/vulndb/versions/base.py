"""What every version scheme shares: the comparison signature and its one error."""

from __future__ import annotations

from collections.abc import Callable

Compare = Callable[[str, str], int]
"""``compare(a, b)``: negative, zero or positive as ``a`` sorts before, with or after ``b``."""


class InvalidVersion(ValueError):
    """A version string that its scheme cannot order.

    This is bad *input* (a package or advisory carrying a malformed version), so it is a
    ``ValueError`` rather than a ``VulnDBError``: callers turn it into a note, not a crash.
    """

    def __init__(self, scheme: str, version: str, reason: str) -> None:
        super().__init__(f"invalid {scheme} version {version!r}: {reason}")
        self.scheme = scheme
        self.version = version
        self.reason = reason


def sign(n: int) -> int:
    """-1, 0 or 1 with the sign of ``n``."""
    return (n > 0) - (n < 0)
