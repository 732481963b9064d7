"""rpm header blobs: real ones written by rpm 4.18, spec-shaped ones for old-style tags, and corrupt ones."""

from __future__ import annotations

import random
import struct

import pytest

from services.engine.catalogers.rpm.header import HeaderError, parse_header
from tests.engine.catalogers.rpm.headers import (
    I18NSTRING,
    INT32,
    STRING,
    STRING_ARRAY,
    build_header,
    real_blobs,
)


def test_real_header_fields_and_files() -> None:
    header = parse_header(real_blobs()["openssl-libs"])
    assert (header.name, header.version, header.release, header.epoch) == (
        "openssl-libs",
        "3.0.1",
        "43.el9_0",
        1,
    )
    assert header.arch == "x86_64"
    assert header.license == "ASL 2.0"
    assert header.vendor == "Assay Fixtures"
    assert header.sourcerpm == "openssl-3.0.1-43.el9_0.src.rpm"
    assert header.files == ("/usr/lib64/libcrypto.so.3", "/usr/lib64/libssl.so.3")
    bash = parse_header(real_blobs()["bash"])
    assert bash.epoch is None
    assert bash.files == ("/etc/skel/.bashrc", "/usr/bin/bash")  # two directories via DIRINDEXES


def test_old_style_filenames_i18n_license_and_modularity_label() -> None:
    blob = build_header(
        [
            (1000, STRING, "nodejs"),
            (1001, STRING, "18.14.2"),
            (1002, STRING, "2.module+el8.7.0+1234"),
            (1003, INT32, [1]),
            (1014, I18NSTRING, ["MIT and ASL 2.0", "MIT et ASL 2.0"]),
            (1027, STRING_ARRAY, ["/usr/bin/node", "/usr/lib/node_modules"]),
            (5096, STRING, "nodejs:18:8070020230306170042:ad008a3a"),
        ]
    )
    header = parse_header(blob)
    assert header.license == "MIT and ASL 2.0"
    assert header.files == ("/usr/bin/node", "/usr/lib/node_modules")
    assert header.modularitylabel == "nodejs:18:8070020230306170042:ad008a3a"
    assert header.epoch == 1


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"\x00\x00", "shorter than its 8-byte preamble"),
        (struct.pack(">II", 0, 0), "claims 0 index entries"),
        (struct.pack(">II", 0x10000, 0), "claims 65536 index entries"),
        (struct.pack(">II", 1, 400 * 1024 * 1024), "-byte data store"),
        (struct.pack(">II", 2, 10) + bytes(16), "needs 50 bytes"),
        (build_header([(1001, STRING, "1.0")]), "no NAME tag"),
        (build_header([(1000, INT32, [5])]), "not a string type"),
        (build_header([(1000, STRING, "x"), (1003, STRING, "1")]), "not an integer type"),
        (struct.pack(">II", 1, 3) + struct.pack(">IIII", 1000, STRING, 0, 1) + b"abc", "no terminating NUL"),
        (
            struct.pack(">II", 1, 2) + struct.pack(">IIII", 1000, STRING, 9, 1) + b"a\x00",
            "outside the 2-byte",
        ),
        (
            struct.pack(">II", 2, 2)
            + struct.pack(">IIII", 1000, STRING, 0, 1)
            + struct.pack(">IIII", 1003, INT32, 0, 9)
            + b"x\x00",
            "overrun the data store",
        ),
        (
            build_header(
                [
                    (1000, STRING, "x"),
                    (1117, STRING_ARRAY, ["a", "b"]),
                    (1118, STRING_ARRAY, ["/"]),
                    (1116, INT32, [0]),
                ]
            ),
            "2 basenames but 1 dirindexes",
        ),
        (
            build_header(
                [
                    (1000, STRING, "x"),
                    (1117, STRING_ARRAY, ["a"]),
                    (1118, STRING_ARRAY, ["/"]),
                    (1116, INT32, [3]),
                ]
            ),
            "dirindex 3 is past the 1 dirnames",
        ),
    ],
)
def test_malformed_headers_raise_header_error_naming_the_fault(blob: bytes, message: str) -> None:
    with pytest.raises(HeaderError, match=message):
        parse_header(blob)


def test_truncated_and_mutated_real_headers_never_raise_anything_else() -> None:
    blob = real_blobs()["bash"]
    rng = random.Random(7)
    variants = [blob[:n] for n in range(0, len(blob), 37)]
    for _ in range(400):
        mutated = bytearray(blob)
        for _ in range(rng.randrange(1, 8)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        variants.append(bytes(mutated))
    outcomes = {"ok": 0, "error": 0}
    for variant in variants:
        try:
            parse_header(variant)
            outcomes["ok"] += 1
        except HeaderError:
            outcomes["error"] += 1
    assert outcomes["error"] > 0
    assert outcomes["ok"] > 0
