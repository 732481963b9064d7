"""Package URLs (https://github.com/package-url/purl-spec), built to the spec's encoding rules."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

from schemas.records import Distro


def _enc(value: str) -> str:
    return quote(value, safe="")


def build_purl(
    ptype: str,
    name: str,
    version: str = "",
    *,
    namespace: str = "",
    qualifiers: Mapping[str, str] | None = None,
) -> str:
    """``pkg:type/namespace/name@version?qualifiers`` with each part percent-encoded.

    Qualifiers with empty values are dropped and the rest sorted by key, as the spec says.
    """
    out = f"pkg:{ptype.lower()}/"
    if namespace:
        out += "/".join(_enc(seg) for seg in namespace.split("/")) + "/"
    out += _enc(name)
    if version:
        out += "@" + _enc(version)
    if qualifiers:
        items = sorted((k.lower(), v) for k, v in qualifiers.items() if v)
        if items:
            out += "?" + "&".join(f"{k}={quote(v, safe=':/')}" for k, v in items)
    return out


def distro_qualifier(distro_id: str, version_id: str) -> str:
    """The ``distro`` qualifier Trivy and syft use: ``debian-12``, ``alpine-3.20.3``."""
    return f"{distro_id}-{version_id}" if version_id else distro_id


def os_qualifiers(distro: Distro | None, arch: str) -> dict[str, str]:
    """``arch`` and ``distro`` qualifiers of an OS package's purl."""
    qualifiers = {"arch": arch}
    if distro is not None:
        qualifiers["distro"] = distro_qualifier(distro.id, distro.version_id)
    return qualifiers
