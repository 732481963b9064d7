"""Writes the PE fixtures of ``test_parse_portable_executable.py`` (no .NET SDK or mcs on this machine).

Each file is a minimal but valid PE32 or PE32+ image laid out as the C# compiler and ``rc`` lay one
out: DOS header with ``e_lfanew`` at 0x3C, ``PE\\0\\0``, COFF and optional headers with 16 data
directories, a ``.text`` section holding the CLI header (``IMAGE_COR20_HEADER``, runtime 2.5, the
version every .NET compiler writes) and a ``BSJB`` metadata root, and a ``.rsrc`` section with a
type/name/language resource tree leading to ``VS_VERSIONINFO`` (fixed file info, a
``StringFileInfo`` table ``040904b0`` and ``VarFileInfo``). Native files have no CLI header.

Run ``python tests/engine/catalogers/dotnet/pe_fixtures.py`` to rewrite them; the output is
deterministic and a test checks the committed files match it.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

HERE = Path(__file__).parent
_TEXT_RVA, _RSRC_RVA = 0x2000, 0x4000
_FILE_ALIGN = 0x200
ResourceKey = int | str


def _utf16z(text: str) -> bytes:
    return text.encode("utf-16-le") + b"\0\0"


def _pad4(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _block(key: str, value: bytes, value_len: int, wtype: int, children: Sequence[bytes] = ()) -> bytes:
    body = _pad4(struct.pack("<HHH", 0, value_len, wtype) + _utf16z(key)) + value
    for child in children:
        body = _pad4(body) + child
    return struct.pack("<H", len(body)) + body[2:]


def version_info(strings: Mapping[str, str], fixed: tuple[int, int, int, int] | None = (1, 0, 0, 0)) -> bytes:
    """A ``VS_VERSIONINFO`` resource with these StringFileInfo strings and fixed file version."""
    value = b""
    if fixed is not None:
        a, b, c, d = fixed
        ms, ls = a << 16 | b, c << 16 | d
        value = struct.pack("<13I", 0xFEEF04BD, 0x10000, ms, ls, ms, ls, 0x3F, 0, 4, 2, 0, 0, 0)
    table = [_block(k, _utf16z(v), len(v) + 1, 1) for k, v in strings.items()]
    string_info = _block("StringFileInfo", b"", 0, 1, [_block("040904b0", b"", 0, 1, table)])
    var_info = _block("VarFileInfo", b"", 0, 1, [_block("Translation", b"\x09\x04\xb0\x04", 4, 0)])
    return _block("VS_VERSION_INFO", value, len(value), 0, [string_info, var_info])


def _sorted(keys: Sequence[ResourceKey]) -> list[ResourceKey]:
    """Named entries first, then ids, as the format requires."""
    return sorted(keys, key=lambda k: (0, k, 0) if isinstance(k, str) else (1, "", k))


class _Dir:
    """One resource directory: (key, subdirectory or data) entries."""

    def __init__(self) -> None:
        self.entries: list[tuple[ResourceKey, _Dir | bytes]] = []


def resource_section(resources: Mapping[tuple[ResourceKey, ResourceKey, int], bytes], rva: int) -> bytes:
    """A ``.rsrc`` section at ``rva``: type, name and language directories, data entries, names, data."""
    tree: dict[ResourceKey, dict[ResourceKey, dict[int, bytes]]] = {}
    for (rtype, name, lang), data in resources.items():
        tree.setdefault(rtype, {}).setdefault(name, {})[lang] = data
    root, types, names = _Dir(), [], []
    for rtype in _sorted(list(tree)):
        type_dir = _Dir()
        root.entries.append((rtype, type_dir))
        types.append(type_dir)
        for name in _sorted(list(tree[rtype])):
            name_dir = _Dir()
            type_dir.entries.append((name, name_dir))
            names.append(name_dir)
            name_dir.entries.extend((lang, data) for lang, data in sorted(tree[rtype][name].items()))
    order = [root, *types, *names]
    at: dict[int, int] = {}
    pos = 0
    for d in order:
        at[id(d)] = pos
        pos += 16 + 8 * len(d.entries)
    leaves = [(d, i) for d in order for i, (_, v) in enumerate(d.entries) if isinstance(v, bytes)]
    leaf_at = {}
    for d, i in leaves:
        leaf_at[(id(d), i)] = pos
        pos += 16
    string_at = {}
    for key in sorted({k for d in order for k, _ in d.entries if isinstance(k, str)}):
        string_at[key] = pos
        pos += 2 + 2 * len(key)
    out = bytearray(pos)
    for key, where in string_at.items():
        out[where : where + 2 + 2 * len(key)] = struct.pack("<H", len(key)) + key.encode("utf-16-le")
    for d, i in leaves:
        data = d.entries[i][1]
        assert isinstance(data, bytes)
        out += b"\0" * (-len(out) % 4)
        struct.pack_into("<IIII", out, leaf_at[(id(d), i)], rva + len(out), len(data), 0, 0)
        out += data
    for d in order:
        named = sum(isinstance(k, str) for k, _ in d.entries)
        struct.pack_into("<IIHHHH", out, at[id(d)], 0, 0, 4, 0, named, len(d.entries) - named)
        for i, (key, value) in enumerate(d.entries):
            name = 0x80000000 | string_at[key] if isinstance(key, str) else key
            target = leaf_at[(id(d), i)] if isinstance(value, bytes) else 0x80000000 | at[id(value)]
            struct.pack_into("<II", out, at[id(d)] + 16 + 8 * i, name, target)
    return bytes(out)


def _text_section(clr: bool) -> bytes:
    metadata = b"BSJB" + struct.pack("<HHII", 1, 1, 0, 12) + b"v4.0.30319\0\0" + struct.pack("<HH", 0, 0)
    if not clr:
        return b"\xc3" + b"\0" * 15  # ret
    header = struct.pack("<IHHII", 72, 2, 5, _TEXT_RVA + 72, len(metadata)) + struct.pack("<I", 1)
    return header + b"\0" * (72 - len(header)) + metadata


def _aligned(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % _FILE_ALIGN)


def build_pe(
    resources: Mapping[tuple[ResourceKey, ResourceKey, int], bytes], *, clr: bool = True, wide: bool = False
) -> bytes:
    """A PE32 (``wide``: PE32+) DLL with a ``.text`` and a ``.rsrc`` section."""
    text = _aligned(_text_section(clr))
    rsrc_raw = resource_section(resources, _RSRC_RVA) if resources else b""
    rsrc = _aligned(rsrc_raw)
    opt_size = 240 if wide else 224
    dirs = [(0, 0)] * 16
    if rsrc_raw:
        dirs[2] = (_RSRC_RVA, len(rsrc_raw))
    if clr:
        dirs[14] = (_TEXT_RVA, 72)
    if wide:
        opt = struct.pack(
            "<HBBIIIIIQIIHHHHHHIIIIHHQQQQII",
            0x20B,
            48,
            0,
            len(text),
            len(rsrc),
            0,
            0,
            _TEXT_RVA,
            0x180000000,
            0x1000,
            _FILE_ALIGN,
            4,
            0,
            0,
            0,
            4,
            0,
            0,
            0x6000,
            _FILE_ALIGN,
            0,
            3,
            0x8560,
            0x400000,
            0x4000,
            0x100000,
            0x2000,
            0,
            16,
        )
    else:
        opt = struct.pack(
            "<HBBIIIIIIIIIHHHHHHIIIIHHIIIIII",
            0x10B,
            48,
            0,
            len(text),
            len(rsrc),
            0,
            0,
            _TEXT_RVA,
            _RSRC_RVA,
            0x10000000,
            0x1000,
            _FILE_ALIGN,
            4,
            0,
            0,
            0,
            4,
            0,
            0,
            0x6000,
            _FILE_ALIGN,
            0,
            3,
            0x8560,
            0x100000,
            0x1000,
            0x100000,
            0x1000,
            0,
            16,
        )
    opt += b"".join(struct.pack("<II", rva, size) for rva, size in dirs)
    assert len(opt) == opt_size
    coff = struct.pack(
        "<HHIIIHH", 0x8664 if wide else 0x14C, 2, 0, 0, 0, opt_size, 0x2022 if wide else 0x2102
    )
    sections = struct.pack(
        "<8sIIIIIIHHI", b".text", len(text), _TEXT_RVA, len(text), _FILE_ALIGN, 0, 0, 0, 0, 0x60000020
    )
    sections += struct.pack(
        "<8sIIIIIIHHI",
        b".rsrc",
        len(rsrc_raw),
        _RSRC_RVA,
        len(rsrc),
        _FILE_ALIGN + len(text),
        0,
        0,
        0,
        0,
        0x40000040,
    )
    dos = bytearray(0x80)
    dos[0:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, 0x80)
    headers = _aligned(bytes(dos) + b"PE\0\0" + coff + opt + sections)
    return headers + text + rsrc


def assembly(
    strings: Mapping[str, str], *, fixed: tuple[int, int, int, int] | None = (1, 0, 0, 0), wide: bool = False
) -> bytes:
    """A .NET assembly whose version resource holds ``strings``."""
    return build_pe({(16, 1, 0): version_info(strings, fixed)}, wide=wide)


# syft's own test cases' version strings (parse_dotnet_portable_executable_test.go), in real files
PROMETHEUS = {
    "CompanyName": "",
    "FileDescription": "",
    "FileVersion": "8.0.1",
    "InternalName": "Prometheus.AspNetCore.dll",
    "OriginalFilename": "Prometheus.AspNetCore.dll",
    "ProductName": "",
    "ProductVersion": "8.0.1",
    "Assembly Version": "8.0.0.0",
}
ADAL = {
    "InternalName": "Microsoft.IdentityModel.Clients.ActiveDirectory.Platform.dll",
    "FileVersion": "3.14.40721.0918    xxxfffdddjjjj",
    "FileDescription": "Active Directory Authentication Library",
    "ProductName": "Active Directory Authentication Library",
    "Comments": "",
    "CompanyName": "Microsoft Corporation",
    "LegalTrademarks": "",
    "LegalCopyright": "Copyright (c) Microsoft Corporation. All rights reserved.",
    "OriginalFilename": "Microsoft.IdentityModel.Clients.ActiveDirectory.Platform.dll",
    "ProductVersion": "c61f043686a544863efc014114c42e844f905336",
    "Assembly Version": "3.14.2.11",
}
LINQ = {
    "CompanyName": "Microsoft Corporation",
    "FileDescription": "System.Data.Linq.dll",
    "FileVersion": "4.7.3190.0 built by: NET472REL1LAST_C",
    "InternalName": "System.Data.Linq.dll",
    "LegalCopyright": "© Microsoft Corporation.  All rights reserved.",
    "OriginalFilename": "System.Data.Linq.dll",
    "ProductName": "Microsoft® .NET Framework",
    "ProductVersion": "4.7.3190.0",
}
HUMANIZER = {
    "CompanyName": "Mehdi Khalili, Claire Novotny",
    "FileDescription": "Humanizer",
    "FileVersion": "2.14.1.48190",
    "InternalName": "Humanizer.dll",
    "OriginalFilename": "Humanizer.dll",
    "ProductName": "Humanizer (netstandard2.0)",
    "ProductVersion": "2.14.1+3ebc38de58",
}
CURL = {
    "CompanyName": "curl, https://curl.se/",
    "FileDescription": "The curl executable",
    "FileVersion": "8.4.0",
    "InternalName": "curl",
    "OriginalFilename": "curl.exe",
    "ProductName": "The curl executable",
    "ProductVersion": "8.4.0",
}
CORECLR = {
    "CompanyName": "Microsoft Corporation",
    "FileDescription": ".NET Runtime",
    "FileVersion": "8.0.824.36612",
    "InternalName": "CoreCLR.dll",
    "OriginalFilename": "CoreCLR.dll",
    "ProductName": "Microsoft® .NET",
    "ProductVersion": "8.0.8+08338fcaa5c9b9a8190abb99222fed12aaba956c",
}
_RSRC_FILE_OFFSET = 2 * _FILE_ALIGN  # headers, then one page of .text


def _patched(data: bytes, offset: int, fmt: str, *values: int) -> bytes:
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, *values)
    return bytes(out)


def fixtures() -> dict[str, bytes]:
    """Every fixture file, by its path under this directory."""
    prometheus = assembly(PROMETHEUS, fixed=(8, 0, 1, 0))
    coreclr = {(10, "CLRDEBUGINFOWINDOWSAMD64", 1033): b"\x01" * 40, (16, 1, 1033): version_info(CORECLR)}
    return {
        "testdata/app/Prometheus.AspNetCore.dll": prometheus,
        f"testdata/app/{ADAL['InternalName']}": assembly(ADAL, fixed=(3, 14, 40721, 918)),
        "testdata/app/System.Data.Linq.dll": assembly(LINQ, fixed=(4, 7, 3190, 0), wide=True),
        "testdata/app/Humanizer.dll": assembly(HUMANIZER, fixed=(2, 14, 1, 48190)),
        "testdata/app/Fixed.Only.dll": assembly({"ProductName": "Fixed.Only"}, fixed=(5, 2, 0, 7)),
        "testdata/app/Legacy.Interop.dll": build_pe({}),
        "testdata/app/curl.exe": build_pe({(16, 1, 1033): version_info(CURL, fixed=(8, 4, 0, 0))}, clr=False),
        "testdata/dotnet/shared/Microsoft.NETCore.App/8.0.8/coreclr.dll": build_pe(
            coreclr, clr=False, wide=True
        ),
        # cut inside the section table
        "testdata-corrupt/app/Truncated.dll": prometheus[:0x190],
        # e_lfanew points past the end of the file
        "testdata-corrupt/app/NoPeHeader.dll": _patched(prometheus, 0x3C, "<I", 0x7FFF0000),
        # the type directory's entry points back at the root directory
        "testdata-corrupt/app/Loop.dll": _patched(prometheus, _RSRC_FILE_OFFSET + 20, "<I", 0x80000000),
        # the version data entry claims 1 MiB past the end of .rsrc
        "testdata-corrupt/app/Oversized.dll": _patched(
            prometheus, _RSRC_FILE_OFFSET + 3 * 24 + 4, "<I", 1024 * 1024
        ),
    }


def main() -> None:
    for rel, data in fixtures().items():
        path = HERE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


if __name__ == "__main__":
    main()
