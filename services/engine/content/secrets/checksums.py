"""Checksums that token formats define themselves: a match that passes one is certainly a token.

GitHub's prefixed tokens (``ghp_``, ``gho_``, ``ghu_``, ``ghs_``, ``ghr_``) and npm's ``npm_``
tokens end in 6 base62 digits of the CRC32 of the 30 characters between the prefix and the
checksum (https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/,
https://github.blog/2021-09-23-announcing-npms-new-access-token-format/). PyPI upload tokens
are macaroons serialised as base64url whose first bytes name the index they were minted for.

A rule with ``checksum = NAME`` treats a secret that passes as certain (it skips the entropy
floor: a real token may look regular), and one that fails as an ordinary candidate held to a
stricter entropy floor (``UNVERIFIED_ENTROPY``): published test tokens are random strings in
the right shape, and most fail the checksum, so failing alone does not drop a match.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Callable

BASE62 = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
UNVERIFIED_ENTROPY = 3.5  # bits per character a checksum-failing match must still reach
_PYPI_HEADERS = (b"\x02\x01\x08pypi.org", b"\x02\x01\x0dtest.pypi.org")


def _base62(value: int, width: int) -> bytes:
    digits = bytearray()
    while value:
        value, rest = divmod(value, 62)
        digits.insert(0, BASE62[rest])
    return bytes(digits).rjust(width, b"0")


def github_crc32(token: bytes) -> bool:
    """``PREFIX_`` + 30 base62 characters + the base62 CRC32 of those 30, zero-padded to 6."""
    _, sep, rest = token.partition(b"_")
    if not sep or len(rest) != 36 or not rest.isalnum():
        return False
    body, check = rest[:30], rest[30:]
    return _base62(zlib.crc32(body), 6) == check


def pypi_macaroon(token: bytes) -> bool:
    """``pypi-`` + a base64url macaroon (version 2) whose location is pypi.org or test.pypi.org."""
    if not token.startswith(b"pypi-"):
        return False
    body = token[5:]
    try:
        raw = base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        return False
    return raw.startswith(_PYPI_HEADERS) and len(raw) > 40


CHECKSUMS: dict[str, Callable[[bytes], bool]] = {
    "github-crc32": github_crc32,
    "pypi-macaroon": pypi_macaroon,
}

__all__ = ["CHECKSUMS", "UNVERIFIED_ENTROPY", "github_crc32", "pypi_macaroon"]
