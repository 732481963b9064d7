"""Writes a bzImage-shaped fixture: the x86 boot sector and setup header, then the version string.

Only what the boot protocol fixes is real (0x1FE boot flag 0x55AA, ``HdrS`` at 0x202, the
version-string offset at 0x20E); the rest is filler. Run from this directory.
"""

import struct
from pathlib import Path

VERSION = (
    b"6.1.0-18-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0) "
    b"#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)\x00"
)

image = bytearray(0x3000)
image[0x1FE:0x200] = b"\x55\xaa"
image[0x202:0x206] = b"HdrS"
struct.pack_into("<H", image, 0x206, 0x020F)  # boot protocol 2.15
version_at = 0x1000
struct.pack_into("<H", image, 0x20E, version_at - 0x200)
image[version_at : version_at + len(VERSION)] = VERSION
(Path(__file__).parent / "testdata/boot/vmlinuz-6.1.0-18-amd64").write_bytes(bytes(image))
