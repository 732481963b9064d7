"""Terraform providers a configuration is locked to: ``.terraform.lock.hcl``.

``terraform init`` writes one ``provider "<source address>" { version = "..."; constraints =
"..."; hashes = [...] }`` block per provider (HCL; only these flat blocks appear, so they are
read with a pattern rather than a general HCL parser). The package is named by its source
address (``registry.terraform.io/hashicorp/aws``), as syft names it; the purl is
``pkg:terraform/<host>/<namespace>/<type>@<version>``.
"""

from __future__ import annotations

import re

from packageurl import PackageURL

from schemas.records import Distro, PackageRecord
from services.engine.catalogers.collect import plain_record
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.requests import FileRequest

_BLOCK = re.compile(r'^provider\s+"(?P<address>[^"\n]+)"\s*\{(?P<body>.*?)^\}', re.MULTILINE | re.DOTALL)
_FIELD = re.compile(r'^\s*(?P<key>version|constraints)\s*=\s*"(?P<value>[^"\n]*)"', re.MULTILINE)


def parse_terraform_lock(path: str, data: bytes) -> ParseResult:
    """Every locked provider; a block without a version is a problem."""
    packages: list[RawPackage] = []
    problems: list[str] = []
    for block in _BLOCK.finditer(data.decode("utf-8", "replace")):
        fields = {m["key"]: m["value"] for m in _FIELD.finditer(block["body"])}
        if not fields.get("version"):
            problems.append(f"{path}: provider {block['address']!r} without a version")
            continue
        metadata = {"constraints": fields["constraints"]} if fields.get("constraints") else {}
        packages.append(
            RawPackage(name=block["address"], version=fields["version"], declared=True, metadata=metadata)
        )
    return ParseResult(packages=packages, problems=problems)


def terraform_to_package(raw: RawPackage, distro: Distro | None, location: str) -> PackageRecord:
    namespace, _, name = raw.name.rpartition("/")
    purl = PackageURL(type="terraform", namespace=namespace or None, name=name, version=raw.version)
    return plain_record(raw, "terraform", location, purl=str(purl))


CATALOGER = Cataloger(
    name="terraform-lock",
    package_type="terraform",
    request=FileRequest(name="terraform-lock", patterns=("**/.terraform.lock.hcl",), max_bytes=4 << 20),
    parse=parse_terraform_lock,
    to_package=terraform_to_package,
    tags=("image", "directory", "declared"),
)
