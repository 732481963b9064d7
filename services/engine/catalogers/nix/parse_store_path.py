"""Nix packages: the entries of a Nix store, ``/nix/store/<hash>-<name>-<version>[-<output>]``.

A Nix image has no package database a scanner can read without Nix; its store paths name what
is installed (https://nixos.org/manual/nixpkgs/stable/#sec-package-naming). The version is the
first ``-<digit>...`` part (``glibc-2.34-210-bin`` -> ``2.34-210``; ``perl5.34.1-TimeDate-2.33``
-> ``2.33``; ``unstable-YYYY-MM-DD`` versions too); a last dash-part without a digit is the
output (``bin``, ``lib``, ``man``, ``dev``). Derivations (``.drv``), sources and patches name
no installed package. Only the store's entries are asked for, by path alone (nothing is read).
The purl is ``pkg:nix/<name>@<version>?output=..&outputhash=..``, as syft writes it.
"""

from __future__ import annotations

import re

from packageurl import PackageURL

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest

_UNSTABLE = re.compile(r"-(?P<version>unstable-\d{4}-\d{2}-\d{2})$")
_VERSION = re.compile(
    r"-(?P<version>[0-9][a-zA-Z0-9]*(?:\.[0-9][a-zA-Z0-9]*)?(?:\.(?:0|[1-9][a-zA-Z0-9]*)){0,3}"
    r"(?:-(?P<pre>\d*[.a-zA-Z-][.0-9a-zA-Z-]*))?(?:\+[.0-9a-zA-Z-]+)?)"
)


def parse_store_entry(entry: str) -> tuple[str, str, str, str] | None:
    """(hash, name, version, output) of a store entry's base name, or None when it names no package."""
    base = entry.rstrip("/").rsplit("/", 1)[-1]
    if base.endswith(".drv"):
        return None
    m = _UNSTABLE.search(base) or _VERSION.search(base)
    if m is None:
        return None
    hash_name = base[: m.start("version")].rstrip("-")
    store_hash, sep, name = hash_name.partition("-")
    if not sep or not name:
        return None
    version, output = m["version"], ""
    pre = m.groupdict().get("pre") or ""
    last = pre.rsplit("-", 1)[-1]
    if pre and not any(c.isdigit() for c in last):
        version, output = version.removesuffix(f"-{last}"), last
    return store_hash, name, version, output


def parse_store_path(path: str, data: bytes) -> ParseResult:
    """The package a store entry's name states (none for sources, patches and derivations)."""
    found = parse_store_entry(path)
    if found is None:
        return ParseResult()
    store_hash, name, version, output = found
    metadata = {"outputhash": store_hash, **({"output": output} if output else {})}
    return ParseResult(packages=[RawPackage(name=name, version=version, metadata=metadata)])


def nix_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    qualifiers = {k: raw.metadata[k] for k in ("output", "outputhash") if raw.metadata.get(k)}
    purl = PackageURL(type="nix", name=raw.name, version=raw.version, qualifiers=qualifiers or None)
    return plain_record(raw, "nix", location, purl=str(purl))


CATALOGER = Cataloger(
    name="nix-store",
    package_type="nix",
    request=FileRequest(name="nix-store", patterns=("**/nix/store/*",), directories=True, metadata_only=True),
    parse=parse_store_path,
    to_package=nix_to_package,
    tags=("os", "image", "directory"),
)
