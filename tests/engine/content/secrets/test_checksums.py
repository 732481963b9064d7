"""Provider checksums: a token that passes its own checksum is certain, one that fails is held to
a stricter entropy floor (published test tokens are random strings that fail it)."""

from __future__ import annotations

import base64
import zlib

from services.engine.content.secrets.analyzer import SecretScanner
from services.engine.content.secrets.checksums import BASE62, github_crc32, pypi_macaroon
from services.engine.content.secrets.ruleset import load_ruleset


def _b62(value: int) -> str:
    out = ""
    while value:
        value, rest = divmod(value, 62)
        out = chr(BASE62[rest]) + out
    return out.rjust(6, "0")


def _github(prefix: str, body: str) -> str:
    """A token in GitHub's documented format: prefix, 30 characters, base62 CRC32 of those 30."""
    return f"{prefix}_{body}{_b62(zlib.crc32(body.encode()))}"


def test_the_github_and_npm_crc32_checksum() -> None:
    token = _github("ghp", "Zq3xK8mP2vL9wR4tY7uB1nC6dF0gH5")
    assert github_crc32(token.encode())
    assert github_crc32(_github("npm", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5").encode())
    assert not github_crc32((token[:-1] + ("A" if token[-1] != "A" else "B")).encode())
    assert not github_crc32(b"ghp_short")


def test_a_checksum_valid_token_is_reported_even_when_it_looks_regular() -> None:
    scanner = SecretScanner(load_ruleset())
    regular = "aaaaabbbbbcccccdddddeeeeefffff"  # 30 characters, entropy 2.6: under the 3.5 floor
    valid = _github("ghp", regular)
    broken = f"ghp_{regular}000000"
    assert [m.rule.rule.id for m in scanner.scan("srv/x.env", f"T={valid}\n".encode())] == ["github-pat"]
    assert scanner.scan("srv/x.env", f"T={broken}\n".encode()) == []


def test_the_pypi_macaroon_header() -> None:
    macaroon = b"\x02\x01\x08pypi.org\x02\x01identifier-bytes-of-a-fixture-token\x00\x06" + bytes(range(40))
    token = b"pypi-" + base64.urlsafe_b64encode(macaroon).rstrip(b"=")
    assert pypi_macaroon(token)
    test_index = base64.urlsafe_b64encode(b"\x02\x01\x0dtest.pypi.org" + bytes(range(60))).rstrip(b"=")
    assert pypi_macaroon(b"pypi-" + test_index)
    assert not pypi_macaroon(b"pypi-" + base64.urlsafe_b64encode(b"\x02\x01\x08evil.org" + bytes(60)))
    assert not pypi_macaroon(b"pypi-AgEIcHlwaS5vcmc")  # the right header, nothing after it
