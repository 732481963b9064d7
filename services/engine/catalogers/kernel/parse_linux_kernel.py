"""Linux kernel images: ``boot/vmlinuz-*`` (x86 bzImage) and uncompressed ``vmlinux`` files.

A bzImage's setup header (the Linux x86 boot protocol, Documentation/arch/x86/boot.rst) holds
the magic ``HdrS`` at 0x202 and, at 0x20E, the offset (less 0x200) of a NUL-terminated string
such as ``6.1.0-18-amd64 (debian-kernel@lists.debian.org) (gcc-12 ...) #1 SMP ...``; its first
word is the kernel release. Other images (``vmlinux``, other architectures) are searched for
the ``Linux version <release> `` banner in their first bytes. The package is ``linux-kernel``,
``pkg:generic/linux-kernel@<release>`` as syft names it; a kernel an OS package installed is
that package (``shadowed_by_os``).
"""

from __future__ import annotations

import io
import re
import struct
from typing import IO

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.binary.parse_classified_binary import windows
from services.engine.catalogers.collect import plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest

_BANNER = re.compile(rb"Linux version (\d+\.\d+[\w.+~-]*) ")
_BANNER_WINDOW = 64 * 1024 * 1024  # the banner sits in the image's rodata, well inside this
_RELEASE = re.compile(r"\d+\.\d+[\w.+~-]*")


def _read(f: IO[bytes], offset: int, size: int) -> bytes:
    f.seek(offset)
    return f.read(size)


def _bzimage_release(f: IO[bytes]) -> str:
    header = _read(f, 0x200, 0x20)
    if len(header) < 0x10 or header[2:6] != b"HdrS":
        return ""
    (offset,) = struct.unpack_from("<H", header, 0x0E)
    text = _read(f, offset + 0x200, 256).split(b"\x00", 1)[0].decode("ascii", "replace")
    first = text.split(" ", 1)[0]
    return first if _RELEASE.fullmatch(first) else ""


def _banner_release(f: IO[bytes]) -> str:
    for window in windows(f, _BANNER_WINDOW):
        m = _BANNER.search(window)
        if m is not None:
            return m[1].decode("ascii")
    return ""


def parse_linux_kernel_stream(path: str, f: IO[bytes]) -> ParseResult:
    """The kernel release an image states; a file that is not a kernel image names none."""
    release = _bzimage_release(f) or _banner_release(f)
    if not release:
        return ParseResult()
    return ParseResult(packages=[RawPackage(name="linux-kernel", version=release)])


def parse_linux_kernel(path: str, data: bytes) -> ParseResult:
    """``parse_linux_kernel_stream`` on bytes already read."""
    return parse_linux_kernel_stream(path, io.BytesIO(data))


def kernel_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    return plain_record(raw, "generic", location)


CATALOGER = Cataloger(
    name="linux-kernel",
    package_type="generic",
    request=FileRequest(
        name="linux-kernel",
        patterns=("**/vmlinuz", "**/vmlinuz-*", "**/vmlinux", "**/vmlinux-*", "**/kernel", "**/kernel-*"),
        max_bytes=512 * 1024 * 1024,
        spool=True,
        report_oversize=False,
    ),
    parse=parse_linux_kernel,
    parse_stream=parse_linux_kernel_stream,
    to_package=kernel_to_package,
    tags=("binary", "image", "directory"),
    shadowed_by_os=True,
)
