"""SBOM outputs: CycloneDX 1.6 and SPDX 2.3 documents that their own schemas and validators accept."""

from __future__ import annotations

import json
from typing import Any

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from schemas.records import Distro, ImageInfo, LayerInfo, PackageRecord
from services.cli.formats import FORMATS, Report, formatter

_LAYER = "sha256:" + "a" * 64
_DEB = PackageRecord(
    name="python3-requests",
    version="2.28.1+dfsg-1",
    type="deb",
    purl="pkg:deb/debian/python3-requests@2.28.1%2Bdfsg-1?arch=all&distro=debian-12&upstream=requests",
    source_name="requests",
    source_version="2.28.1+dfsg-1",
    licenses=["Apache-2.0"],
    layer_digest=_LAYER,
    locations=["/var/lib/dpkg/status"],
    found_by="dpkg-status",
)
_OWNED = PackageRecord(
    name="requests",
    version="2.28.1",
    type="pypi",
    purl="pkg:pypi/requests@2.28.1",
    licenses=["Custom Vendor EULA"],  # not an SPDX license: kept as declared (LicenseRef / named)
    locations=["/usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO"],
    found_by="python-installed",
    owner=_DEB.purl,
)
_DECLARED = PackageRecord(
    name="lodash",
    version="4.17.15",
    type="npm",
    purl="pkg:npm/lodash@4.17.15",
    licenses=["MIT"],
    locations=["/src/app/package-lock.json"],
    found_by="javascript-package-lock",
    declared=True,
)
_JAR = PackageRecord(
    name="log4j-core",
    version="2.14.1",
    type="maven",
    purl="pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
    licenses=["Apache-2.0 OR MIT"],
    locations=["/opt/app.war:WEB-INF/lib/log4j-core-2.14.1.jar"],
    metadata={"sha1": "9141212b8507ab50a45525b545b39d224614528b"},
)
_REPORT = Report(
    image=ImageInfo(
        ref="registry.example/app:1",
        digest="sha256:" + "b" * 64,
        layers=[LayerInfo(digest=_LAYER)],
        distro=Distro(id="debian", version_id="12", pretty_name="Debian GNU/Linux 12 (bookworm)"),
    ),
    packages=[_DEB, _OWNED, _DECLARED, _JAR],
    findings=[],
    counts={},
    analyzer_version="0.2.0",
    generated_at="2026-11-23T10:00:00Z",
)


def _props(component: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for prop in component.get("properties", []):
        out.setdefault(prop["name"], []).append(prop["value"])
    return out


def test_every_format_renders_the_report() -> None:
    assert {"table", "json", "cyclonedx", "spdx"} <= set(FORMATS)
    for name in FORMATS:
        assert formatter(name)(_REPORT)


def test_cyclonedx_is_valid_1_6_with_owner_declared_layer_and_hash() -> None:
    text = formatter("cyclonedx")(_REPORT)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6"
    comps = {c["bom-ref"]: c for c in bom["components"]}
    assert set(comps) >= {p.purl for p in _REPORT.packages}
    owned = _props(comps[_OWNED.purl])
    assert owned["assay:package:owner"] == [_DEB.purl]
    assert comps[_OWNED.purl]["licenses"] == [{"license": {"name": "Custom Vendor EULA"}}]
    assert _props(comps[_DECLARED.purl])["assay:package:declared"] == ["true"]
    assert "assay:package:declared" not in _props(comps[_DEB.purl])
    assert _props(comps[_DEB.purl])["assay:layer:digest"] == [_LAYER]
    assert comps[_JAR.purl]["hashes"] == [{"alg": "SHA-1", "content": _JAR.metadata["sha1"]}]
    assert comps[_JAR.purl]["licenses"] == [{"expression": "Apache-2.0 OR MIT"}]
    deps = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    assert deps[_DEB.purl] == [_OWNED.purl]
    assert any(c["type"] == "operating-system" for c in bom["components"])


def test_spdx_is_valid_2_3_with_contains_ownership_and_license_refs() -> None:
    text = formatter("spdx")(_REPORT)
    doc = json.loads(text)
    assert doc["spdxVersion"] == "SPDX-2.3"
    parsed = JsonLikeDictParser().parse(doc)
    assert validate_full_spdx_document(parsed) == []
    by_purl = {
        ref["referenceLocator"]: pkg
        for pkg in doc["packages"]
        for ref in pkg.get("externalRefs", [])
        if ref["referenceType"] == "purl"
    }
    assert set(by_purl) == {p.purl for p in _REPORT.packages}
    image_id = next(
        r["relatedSpdxElement"] for r in doc["relationships"] if r["relationshipType"] == "DESCRIBES"
    )
    contained = {
        r["relatedSpdxElement"]
        for r in doc["relationships"]
        if r["relationshipType"] == "CONTAINS" and r["spdxElementId"] == image_id
    }
    assert contained == {pkg["SPDXID"] for pkg in by_purl.values()}
    other = [r for r in doc["relationships"] if r["relationshipType"] == "OTHER"]
    assert [(r["spdxElementId"], r["relatedSpdxElement"]) for r in other] == [
        (by_purl[_DEB.purl]["SPDXID"], by_purl[_OWNED.purl]["SPDXID"])
    ]
    assert "ownership-by-file-overlap" in other[0]["comment"]
    owned_license = by_purl[_OWNED.purl]["licenseDeclared"]
    assert owned_license.startswith("LicenseRef-")
    extracted = {e["licenseId"]: e["extractedText"] for e in doc["hasExtractedLicensingInfos"]}
    assert extracted[owned_license] == "Custom Vendor EULA"
    assert by_purl[_JAR.purl]["licenseDeclared"] == "Apache-2.0 OR MIT"
    assert by_purl[_JAR.purl]["checksums"] == [{"algorithm": "SHA1", "checksumValue": _JAR.metadata["sha1"]}]
    assert "declared in a lockfile" in by_purl[_DECLARED.purl]["comment"]
    assert _LAYER in by_purl[_DEB.purl]["comment"]


def test_cyclonedx_never_mixes_an_expression_with_other_licenses() -> None:
    mixed = PackageRecord(
        name="libdb5.3",
        version="5.3.28+dfsg2-1",
        type="deb",
        purl="pkg:deb/debian/libdb5.3@5.3.28%2Bdfsg2-1?arch=amd64",
        licenses=["Sleepycat and BSD-3-clause", "MIT"],
        license_expression="Sleepycat AND BSD-3-Clause AND MIT",
    )
    report = Report(image=_REPORT.image, packages=[mixed], findings=[], counts={})
    text = formatter("cyclonedx")(report)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    [comp] = [c for c in json.loads(text)["components"] if c.get("purl") == mixed.purl]
    assert comp["licenses"] == [{"expression": "Sleepycat AND BSD-3-Clause AND MIT"}]
