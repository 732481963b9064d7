"""Declared Python dependencies: Pipenv's ``Pipfile.lock`` (JSON).

Packages of the ``default`` section: ``develop`` holds what ``pipenv install --dev`` adds,
which syft and Trivy (without ``--include-dev-deps``) leave out too. Entries without a ``==``
version (VCS checkouts, local paths) name nothing installable at a known version and are
left out.
"""

from __future__ import annotations

import json
from typing import Any

from services.engine.catalogers.interface import Cataloger, ParseResult, RawPackage
from services.engine.catalogers.python.parse_metadata import python_to_package
from services.engine.requests import FileRequest

SECTIONS = ("default", "develop")  # both mark a Pipfile.lock; only "default" is reported


def parse_pipfile_lock(path: str, data: bytes) -> ParseResult:
    """Pinned packages of the default section; JSON that is not a Pipfile.lock is a problem."""
    try:
        doc: Any = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return ParseResult(problems=[f"{path}: not valid JSON: {exc}"])
    if not isinstance(doc, dict) or not any(isinstance(doc.get(s), dict) for s in SECTIONS):
        return ParseResult(problems=[f"{path}: no 'default' or 'develop' section: not a Pipfile.lock"])
    packages: list[RawPackage] = []
    problems: list[str] = []
    for section in SECTIONS[:1]:
        entries = doc.get(section)
        if not isinstance(entries, dict):
            continue
        for name, entry in entries.items():
            if not isinstance(entry, dict):
                problems.append(f"{path}: {section}.{name} is not an object")
                continue
            version = entry.get("version")
            if not isinstance(version, str) or not version.startswith("=="):
                continue  # git/path/editable entries carry no version
            metadata = {"section": section}
            if isinstance(entry.get("index"), str):
                metadata["index"] = entry["index"]
            if isinstance(entry.get("markers"), str):
                metadata["markers"] = entry["markers"]
            packages.append(
                RawPackage(name=name, version=version[2:].lstrip("="), declared=True, metadata=metadata)
            )
    return ParseResult(packages=packages, problems=problems)


CATALOGER = Cataloger(
    name="python-pipfile-lock",
    package_type="pypi",
    request=FileRequest(
        name="python-pipfile-lock", patterns=("**/Pipfile.lock",), max_bytes=16 * 1024 * 1024
    ),
    parse=parse_pipfile_lock,
    to_package=python_to_package,
    tags=("language", "image", "directory", "declared"),
)
