""".NET assemblies (``*.dll``, ``*.exe``) named and versioned by their version resource, as syft does.

syft's ``dotnet-portable-executable-cataloger`` reports each PE file with evidence of the CLR (a
CLI header giving a runtime version, or the runtime's own ``CLRDEBUGINFO`` resource) as
``pkg:nuget/<name>@<version>``; native PE files are not packages. The rules, from its code and tests:

- name: the first non-blank of ProductName, FileDescription, InternalName, OriginalFilename; for
  Microsoft's files (CompanyName or ProductName mention Microsoft, whose ProductName is broad like
  "Microsoft® .NET Framework") FileDescription, InternalName, OriginalFilename, then ProductName.
  Whitespace (with NBSP) collapses to one space, control characters go, and a runtime suffix such
  as `` (net8.0)`` moves to metadata. No name at all: the file name without ``.exe``/``.dll``.
- version: ProductVersion and FileVersion (else the fixed file version), each cut before the first
  word without a digit once a word with one was seen ("4.7.3190.0 built by: NET472REL1" is
  "4.7.3190.0"). When both parse as versions (hashicorp go-version) and differ, the greater;
  otherwise ProductVersion if it has a digit and at least as many ``.``/``,`` runs, else FileVersion
  if it has a digit and some punctuation, else whichever has a digit, else ProductVersion.
"""

from __future__ import annotations

import re
from typing import IO

from services.engine.catalogers.dotnet.govers import compare_go_versions
from services.engine.catalogers.dotnet.package import nuget_to_package
from services.engine.catalogers.dotnet.pe_version import PEError, PEVersionInfo, ReadAt, read_pe_version
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest

_NAME_FIELDS = ("ProductName", "FileDescription", "InternalName", "OriginalFilename")
_MICROSOFT_NAME_FIELDS = ("FileDescription", "InternalName", "OriginalFilename", "ProductName")
_SPACE = re.compile(r"[\t\n\f\r \xa0]+")
_CONTROL = re.compile(r"[\x00-\x1f]")
_DIGIT = re.compile(r"\d")
_PUNCTUATION = re.compile(r"[.,]+")
_RUNTIME_SUFFIX = re.compile(r"\s*\((net[^)]*[0-9]+(\.[0-9]+)?)\)$")
_METADATA = {
    "Assembly Version": "assembly_version",
    "AssemblyVersion": "assembly_version",
    "CompanyName": "company_name",
    "ProductName": "product_name",
    "ProductVersion": "product_version",
    "FileVersion": "file_version",
    "InternalName": "internal_name",
    "OriginalFilename": "original_filename",
    "LegalCopyright": "legal_copyright",
    "Comments": "comments",
}
_MAX_OFFSET = 2**62  # past any real file, below what seek() accepts


def space_normalize(value: str) -> str:
    """Trimmed, whitespace runs collapsed to one space, control characters removed."""
    value = _SPACE.sub(" ", value.strip())
    return _SPACE.sub(" ", _CONTROL.sub("", value)).strip()


def _is_microsoft(strings: dict[str, str]) -> bool:
    return any("microsoft" in strings.get(k, "").lower() for k in ("CompanyName", "ProductName"))


def find_name(strings: dict[str, str]) -> tuple[str, str]:
    """(name, runtime) from the version strings; the runtime is a `` (net8.0)`` suffix cut off the name."""
    fields = _MICROSOFT_NAME_FIELDS if _is_microsoft(strings) else _NAME_FIELDS
    name = next((v for f in fields if (v := space_normalize(strings.get(f, "")))), "")
    if match := _RUNTIME_SUFFIX.search(name):
        return name[: match.start()].strip(), match.group(1).strip()
    return name, ""


def extract_version(value: str) -> str:
    """The leading words of a version string up to the first digitless word after one with a digit."""
    out: list[str] = []
    for word in value.split():
        if any(_DIGIT.search(w) for w in out) and not _DIGIT.search(word):
            break
        out.append(word)
    return " ".join(out)


def find_version(strings: dict[str, str], fixed_file_version: str = "") -> str:
    """The version syft reports: the greater of ProductVersion and FileVersion, else the more detailed."""
    product = extract_version(strings.get("ProductVersion", ""))
    file = extract_version(strings.get("FileVersion", "") or fixed_file_version)
    order = compare_go_versions(product, file)
    if order is not None and order != 0:
        return product if order > 0 else file
    if order is None and compare_go_versions(product, product) is not None:
        return product  # ProductVersion parses and FileVersion does not
    product_detail = len(_PUNCTUATION.findall(product))
    file_detail = len(_PUNCTUATION.findall(file))
    if _DIGIT.search(product) and product_detail >= file_detail:
        return product
    if _DIGIT.search(file) and file_detail > 0:
        return file
    if _DIGIT.search(product):
        return product
    return file if _DIGIT.search(file) else product


def _package(path: str, info: PEVersionInfo) -> RawPackage:
    strings = info.strings
    name, runtime = find_name(strings)
    if not name:  # older runtime assemblies carry no version resource
        name = path.rsplit("/", 1)[-1].removesuffix(".exe").removesuffix(".dll")
    metadata = {
        key: value.strip() for field, key in _METADATA.items() if (value := strings.get(field, "")).strip()
    }
    if runtime:
        metadata["runtime"] = runtime
    return RawPackage(name=name, version=find_version(strings, info.fixed_file_version), metadata=metadata)


def _result(path: str, info: PEVersionInfo | PEError) -> ParseResult:
    if isinstance(info, PEError):
        return ParseResult(problems=[f"{path}: not a readable PE file: {info}"])
    if not info.clr:
        return ParseResult()  # a native PE file: not a .NET assembly
    problems = [f"{path}: version resource partly unreadable: {p}" for p in info.resource_problems[:1]]
    return ParseResult(packages=[_package(path, info)], problems=problems)


def parse_portable_executable(path: str, data: bytes) -> ParseResult:
    """The .NET assembly in ``data`` as one package; nothing for a native PE file; a problem if unreadable."""
    view = memoryview(data)

    def read_at(offset: int, size: int) -> bytes:
        return bytes(view[offset : offset + size]) if 0 <= offset <= len(data) else b""

    return _result(path, read_pe_version(read_at))


def parse_portable_executable_stream(path: str, stream: IO[bytes]) -> ParseResult:
    """As ``parse_portable_executable``, reading only the headers and resources the file points at."""

    def read_at(offset: int, size: int) -> bytes:
        if not 0 <= offset <= _MAX_OFFSET:
            return b""
        stream.seek(offset)
        return stream.read(size)

    reader: ReadAt = read_at
    return _result(path, read_pe_version(reader))


CATALOGER = Cataloger(
    name="dotnet-portable-executable",
    package_type="nuget",
    # spooled, so a large assembly costs only the few kilobytes of headers and resources read;
    # past 512 MiB a file is skipped without an unknown, as for other executables
    request=FileRequest(
        name="dotnet-portable-executable",
        patterns=("**/*.dll", "**/*.exe"),
        max_bytes=512 * 1024 * 1024,
        magic=(b"MZ",),
        spool=True,
        report_oversize=False,
    ),
    parse=parse_portable_executable,
    parse_stream=parse_portable_executable_stream,
    to_package=nuget_to_package,
    tags=("language", "image", "directory"),
)
