"""CycloneDX 1.6 JSON SBOM: every package as a component carrying its purl and layer."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from services.cli.formats.report import Report


def to_cyclonedx(report: Report) -> dict[str, Any]:
    """The report's inventory as a CycloneDX 1.6 document (a plain JSON object)."""
    img = report.image
    components: list[dict[str, Any]] = []
    seen: set[str] = set()
    for pkg in report.packages:
        ref = pkg.purl
        if ref in seen:
            continue
        seen.add(ref)
        comp: dict[str, Any] = {
            "type": "library",
            "bom-ref": ref,
            "name": pkg.name,
            "version": pkg.version,
            "purl": pkg.purl,
        }
        if pkg.licenses:
            comp["licenses"] = [{"expression": lic} for lic in pkg.licenses]
        props = [{"name": "assay:package:type", "value": pkg.type}]
        if pkg.layer_digest:
            props.append({"name": "assay:layer:digest", "value": pkg.layer_digest})
        if pkg.source_name:
            props.append({"name": "assay:package:source", "value": pkg.source_name})
        props += [{"name": "assay:location:path", "value": loc} for loc in pkg.locations]
        comp["properties"] = props
        components.append(comp)
    metadata: dict[str, Any] = {
        "timestamp": report.generated_at or None,
        "tools": {
            "components": [{"type": "application", "name": "assay", "version": report.analyzer_version}]
        },
        "component": {
            "type": "container",
            "bom-ref": img.digest or img.ref,
            "name": img.ref,
            **({"version": img.digest} if img.digest else {}),
        },
    }
    if img.distro is not None:
        components.insert(
            0,
            {
                "type": "operating-system",
                "bom-ref": f"os:{img.distro.id}@{img.distro.version_id}",
                "name": img.distro.id,
                "version": img.distro.version_id,
                "description": img.distro.pretty_name,
            },
        )
    serial = uuid.uuid5(uuid.NAMESPACE_URL, (img.digest or img.ref) + report.generated_at)
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{serial}",
        "version": 1,
        "metadata": {k: v for k, v in metadata.items() if v is not None},
        "components": components,
    }


def render_cyclonedx(report: Report) -> str:
    """CycloneDX JSON text."""
    return msgspec.json.format(msgspec.json.encode(to_cyclonedx(report)).decode(), indent=2) + "\n"
