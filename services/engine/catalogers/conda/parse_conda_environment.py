"""Declared conda dependencies: an environment file (``environment.yml``, ``environment.yaml``).

YAML: ``dependencies`` lists match specs, ``name=version`` or ``name=version=build`` when
exported with ``conda env export``, and may hold a ``pip:`` sub-list (PyPI requirements,
read by the requirements cataloger's rules elsewhere, not here). Only specs pinned to one
version (``=1.2.3``, ``==1.2.3``, no wildcard or range) become packages, as Trivy reads them;
a ``channel::name=version`` spec keeps its channel in the metadata.
"""

from __future__ import annotations

import re

from services.engine.catalogers.conda.parse_conda_meta import conda_to_package
from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.javascript.npm import decode_yaml
from services.engine.requests import FileRequest

_SPEC = re.compile(
    r"^(?:(?P<channel>[^:\s]+)::)?(?P<name>[A-Za-z0-9_][\w.-]*)\s*==?\s*(?P<version>[^=\s*<>!,|]+)"
    r"(?:=(?P<build>[^\s=]+))?$"
)


def parse_conda_environment(path: str, data: bytes) -> ParseResult:
    """Specs pinned to a version; a file whose ``dependencies`` is not a list is a problem."""
    doc, problem = decode_yaml(path, data.decode("utf-8", "replace"), "conda environment file")
    if problem:
        return ParseResult(problems=[problem])
    deps = doc.get("dependencies") if isinstance(doc, dict) else None
    if deps is None:
        return ParseResult()
    if not isinstance(deps, list):
        return ParseResult(problems=[f"{path}: 'dependencies' is not a list"])
    packages: list[RawPackage] = []
    for spec in deps:
        m = _SPEC.match(spec.strip()) if isinstance(spec, str) else None
        if m is None:
            continue  # unpinned, a range, or the pip: sub-list
        metadata = {"build": m["build"] or "", "channel": m["channel"] or ""}
        packages.append(
            RawPackage(
                name=m["name"],
                version=m["version"],
                declared=True,
                metadata={k: v for k, v in metadata.items() if v},
            )
        )
    return ParseResult(packages=packages)


CATALOGER = Cataloger(
    name="conda-environment",
    package_type="conda",
    request=FileRequest(
        name="conda-environment", patterns=("**/environment.yml", "**/environment.yaml"), max_bytes=4 << 20
    ),
    parse=parse_conda_environment,
    to_package=conda_to_package,
    tags=("language", "image", "directory", "declared"),
)
