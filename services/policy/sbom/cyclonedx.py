"""CycloneDX 1.6 JSON SBOM, built with cyclonedx-python-lib (the CycloneDX project's own library).

Every package becomes a component with its purl, declared licenses (an SPDX expression
where the text is one, a named license otherwise), the layer that introduced it and the
files it was read from. A language package installed by an OS package is listed under
the OS package in ``dependencies`` and names it in ``assay:package:owner``; packages
named only by a lockfile carry ``assay:package:declared=true`` and
``manifest-analysis`` identity evidence, installed ones ``binary-analysis`` or
``manifest-analysis`` of the installed metadata (as syft reports them).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from schemas.records import PackageRecord
from services.policy.report import Report
from services.policy.sbom.cyclonedx_vulns import add_vulnerabilities

_PREFIX = "assay:"


def _properties(pkg: PackageRecord) -> list[Property]:
    props = [Property(name=f"{_PREFIX}package:type", value=pkg.type)]
    if pkg.found_by:
        props.append(Property(name=f"{_PREFIX}package:foundBy", value=pkg.found_by))
    if pkg.declared:
        props.append(Property(name=f"{_PREFIX}package:declared", value="true"))
    if pkg.owner:
        props.append(Property(name=f"{_PREFIX}package:owner", value=pkg.owner))
    if pkg.source_name:
        props.append(Property(name=f"{_PREFIX}package:source", value=pkg.source_name))
    if pkg.layer_digest:
        props.append(Property(name=f"{_PREFIX}layer:digest", value=pkg.layer_digest))
    props += [Property(name=f"{_PREFIX}location:path", value=loc) for loc in pkg.locations]
    props += [Property(name=f"{_PREFIX}metadata:{k}", value=v) for k, v in sorted(pkg.metadata.items()) if v]
    return props


def _licenses(pkg: PackageRecord, factory: LicenseFactory) -> list[LicenseExpression | DisjunctiveLicense]:
    """Declared licenses as CycloneDX allows them: several ids/names, or exactly one expression.

    A package declaring an expression among other licenses (``Sleepycat and BSD-3``, ``MIT``)
    gets its one normalised SPDX expression instead, since CycloneDX forbids mixing them.
    """
    made = [factory.make_from_string(lic) for lic in pkg.licenses if lic]
    if len(made) > 1 and any(isinstance(m, LicenseExpression) for m in made):
        return [LicenseExpression(pkg.license_expression or " AND ".join(f"({lic})" for lic in pkg.licenses))]
    return made


def _component(pkg: PackageRecord, licenses: LicenseFactory) -> Component:
    try:
        purl: PackageURL | None = PackageURL.from_string(pkg.purl)
    except ValueError:
        purl = None
    hashes = []
    if sha1 := pkg.metadata.get("sha1"):
        hashes.append(HashType(alg=HashAlgorithm.SHA_1, content=sha1))
    return Component(
        type=ComponentType.LIBRARY,
        bom_ref=pkg.purl,
        name=pkg.name,
        version=pkg.version,
        group=purl.namespace if purl is not None and pkg.type in ("maven", "npm", "composer") else None,
        purl=purl,
        licenses=_licenses(pkg, licenses),
        hashes=hashes,
        properties=_properties(pkg),
    )


def build_bom(report: Report) -> Bom:
    """The report's inventory as a CycloneDX object model (vulnerabilities can be added to it)."""
    img = report.image
    licenses = LicenseFactory()
    bom = Bom()
    if report.generated_at:
        stamp = datetime.strptime(report.generated_at, "%Y-%m-%dT%H:%M:%SZ")
        bom.metadata.timestamp = stamp.replace(tzinfo=UTC)
    bom.serial_number = uuid.uuid5(uuid.NAMESPACE_URL, (img.digest or img.ref) + report.generated_at)
    bom.metadata.tools.components.add(
        Component(type=ComponentType.APPLICATION, name="assay", version=report.analyzer_version or None)
    )
    root = Component(
        type=ComponentType.CONTAINER,
        bom_ref=img.digest or img.ref,
        name=img.ref,
        version=img.digest or None,
        properties=[Property(name=f"{_PREFIX}layer:digest", value=layer.digest) for layer in img.layers],
    )
    bom.metadata.component = root
    if img.distro is not None:
        bom.components.add(
            Component(
                type=ComponentType.OPERATING_SYSTEM,
                bom_ref=f"os:{img.distro.id}@{img.distro.version_id}",
                name=img.distro.id,
                version=img.distro.version_id or None,
                description=img.distro.pretty_name or None,
            )
        )
    by_ref: dict[str, Component] = {}
    for pkg in report.packages:
        if pkg.purl in by_ref:
            continue
        comp = _component(pkg, licenses)
        by_ref[pkg.purl] = comp
        bom.components.add(comp)
    owned: dict[str, list[Component]] = {}
    for pkg in report.packages:
        if pkg.owner and pkg.owner in by_ref and pkg.purl in by_ref:
            owned.setdefault(pkg.owner, []).append(by_ref[pkg.purl])
    for owner, parts in owned.items():
        bom.register_dependency(by_ref[owner], parts)
    # the image is the root of the graph: it holds every component not installed by another one
    inner = {id(c) for parts in owned.values() for c in parts}
    bom.register_dependency(root, [c for c in bom.components if id(c) not in inner])
    return bom


def render_cyclonedx(report: Report) -> str:
    """CycloneDX 1.6 JSON text: the inventory and, when matching ran, its vulnerabilities."""
    return JsonV1Dot6(add_vulnerabilities(build_bom(report), report)).output_as_string(indent=2) + "\n"
