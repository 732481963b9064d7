"""Nix store entries: name, version and output from the store path."""

from __future__ import annotations

import pytest

from services.engine.analyze import analyze
from services.engine.catalogers.nix.parse_store_path import (
    nix_to_package,
    parse_store_entry,
    parse_store_path,
)
from services.engine.catalogers.registry import select
from tests.engine.memimage import Entry, Layer, MemoryImage

STORE = "testdata/nix/store"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("h0cnbmfcn93xm5dg2x27ixhag1cwndga-glibc-2.34-210-bin", ("glibc", "2.34-210", "bin")),
        ("5zzrvdmlkc5rh3k5862krd3wfb3pqhyf-perl5.34.1-TimeDate-2.33", ("perl5.34.1-TimeDate", "2.33", "")),
        (
            "zkgyp2vra0bgqm0dv1qi514l5fd0aksx-bash-interactive-5.1-p16-man",
            ("bash-interactive", "5.1-p16", "man"),
        ),
        ("0amf0d1dymv9gqcyhhjb9j0l8sn00c56-libedit-20210910-3.1", ("libedit", "20210910-3.1", "")),
        ("n83qx7m848kg51lcjchwbkmlgdaxfckf-tzdata-2022a", ("tzdata", "2022a", "")),
        (
            "a1b2c3d4e5f60718293a4b5c6d7e8f90-nix-index-unstable-2023-11-26",
            ("nix-index", "unstable-2023-11-26", ""),
        ),
    ],
)
def test_store_path_names(entry: str, expected: tuple[str, str, str]) -> None:
    found = parse_store_entry(f"{STORE}/{entry}")
    assert found is not None
    assert found[1:] == expected


@pytest.mark.parametrize(
    "entry",
    [
        "yzahni8aig6mdrvcsccgwm2515lcpi5q-hello-2.12.drv",
        "z9yvxs0s3xdkp5jgmzis4g50bfq3dgvm-0018-pkg-config-derive-prefix-from-prefix.patch",
        "w3hl7zrmc9qvzadc0k7cp9ysxiyz88j6-base-system",
        "5q7vxm9lc4b9hifc3br4sr8dy7f2h0qa-source",
    ],
)
def test_entries_that_name_no_package(entry: str) -> None:
    assert parse_store_path(f"{STORE}/{entry}", b"").packages == []


def test_purl_carries_output_and_hash() -> None:
    entry = f"{STORE}/p0y8fbpbqr2jm5zfrdll0rgyg2lvp5g2-util-linux-minimal-2.37.4-bin"
    [raw] = parse_store_path(entry, b"").packages
    assert nix_to_package(raw, None, "/" + entry).purl == (
        "pkg:nix/util-linux-minimal@2.37.4?output=bin&outputhash=p0y8fbpbqr2jm5zfrdll0rgyg2lvp5g2"
    )


async def test_an_image_store_is_read_from_its_directory_entries() -> None:
    hello = "nix/store/3wq2qlhn8yyy4rj8g1xbjbf8s9b3f1rb-hello-2.12.1"
    image = MemoryImage(
        [
            Layer(
                [
                    Entry("nix", None, is_dir=True),
                    Entry("nix/store", None, is_dir=True),
                    Entry(hello, None, is_dir=True),
                    Entry(f"{hello}/bin", None, is_dir=True),
                    Entry(f"{hello}/bin/hello", b"\x7fELF", mode=0o755),
                    Entry("nix/store/8xq1d5kq2lz1r4w5pb2n3ixf0n0j6w3a-hello-2.12.1.drv", b"Derive()"),
                ]
            )
        ]
    )
    analysis = await analyze(image, select())
    assert [(p.type, p.name, p.version) for p in analysis.packages] == [("nix", "hello", "2.12.1")]
