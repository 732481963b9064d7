"""Linux kernel images: the release from a bzImage header or a vmlinux banner."""

from pathlib import Path

from services.engine.catalogers.kernel.parse_linux_kernel import kernel_to_package, parse_linux_kernel

HERE = Path(__file__).parent
REL = "testdata/boot/vmlinuz-6.1.0-18-amd64"


def test_bzimage_setup_header() -> None:
    result = parse_linux_kernel(REL, (HERE / REL).read_bytes())
    assert result.problems == []
    [raw] = result.packages
    assert (raw.name, raw.version) == ("linux-kernel", "6.1.0-18-amd64")
    assert kernel_to_package(raw, None, "/" + REL).purl == "pkg:generic/linux-kernel@6.1.0-18-amd64"


def test_vmlinux_banner_and_files_that_are_no_kernel() -> None:
    vmlinux = (
        b"\x7fELF"
        + b"\x00" * 4096
        + b"Linux version 5.15.0-97-generic (buildd@lcy02-amd64-102) (gcc) #107 SMP\n"
    )
    [raw] = parse_linux_kernel("boot/vmlinux-5.15.0-97-generic", vmlinux).packages
    assert raw.version == "5.15.0-97-generic"
    assert parse_linux_kernel("usr/lib/kernel", b"#!/bin/sh\necho kernel\n").packages == []
    bad_offset = bytearray(0x400)
    bad_offset[0x202:0x206] = b"HdrS"
    bad_offset[0x20E:0x210] = b"\xff\xff"
    assert parse_linux_kernel("boot/vmlinuz", bytes(bad_offset)).packages == []
