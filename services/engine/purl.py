"""Package URLs (https://github.com/package-url/purl-spec), built with packageurl-python."""

from __future__ import annotations

from collections.abc import Mapping

from packageurl import PackageURL

from schemas.records import Distro


def build_purl(
    ptype: str,
    name: str,
    version: str = "",
    *,
    namespace: str = "",
    qualifiers: Mapping[str, str] | None = None,
) -> str:
    """``pkg:type/namespace/name@version?qualifiers``, encoded by packageurl-python (the reference library).

    Qualifiers with empty values are dropped and the rest sorted by key, as the spec says.
    Using the reference encoder keeps our purls byte-identical to syft's and Trivy's
    (e.g. a Debian epoch stays ``1:2.5.1-4``), which matters because purls are join keys.
    """
    kept = {k.lower(): v for k, v in (qualifiers or {}).items() if v}
    return str(
        PackageURL(
            type=ptype.lower(),
            namespace=namespace or None,
            name=name,
            version=version or None,
            qualifiers=kept or None,
        ).to_string()
    )


def distro_qualifier(distro_id: str, version_id: str) -> str:
    """The ``distro`` qualifier Trivy and syft use: ``debian-12``, ``alpine-3.20.3``."""
    return f"{distro_id}-{version_id}" if version_id else distro_id


def os_qualifiers(distro: Distro | None, arch: str) -> dict[str, str]:
    """``arch`` and ``distro`` qualifiers of an OS package's purl."""
    qualifiers = {"arch": arch}
    if distro is not None:
        qualifiers["distro"] = distro_qualifier(distro.id, distro.version_id)
    return qualifiers
