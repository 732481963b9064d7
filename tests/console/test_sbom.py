"""SBOM downloads from the Image page: the latest stored scan's inventory as CycloneDX and SPDX."""

from __future__ import annotations

import html
import json
import re

from tests.console.conftest import Console
from tests.console.seed import A, B, C, D, packages


async def test_the_image_page_links_both_sboms_and_they_describe_its_packages(console: Console) -> None:
    _, body, _ = await console.get(f"/console/images/{A}")
    links = dict(re.findall(r'href="([^"]+)" id="sbom-(\w+)"', body))
    assert set(links.values()) == {"cyclonedx", "spdx"}
    expected = {p.purl for p in packages()}
    status, text, headers = await console.get(f"/console/images/{A}/sbom/cyclonedx")
    assert status == 200
    assert headers["Content-Type"].startswith("application/vnd.cyclonedx+json")
    assert headers["Content-Disposition"] == f'attachment; filename="{A.replace(":", "-")}.cdx.json"'
    bom = json.loads(text)
    assert (bom["bomFormat"], bom["specVersion"]) == ("CycloneDX", "1.6")
    assert bom["metadata"]["component"]["version"] == A
    assert {c["purl"] for c in bom["components"] if "purl" in c} == expected
    assert "vulnerabilities" not in bom  # the inventory, not the findings
    status, text, headers = await console.get(f"/console/images/{A}/sbom/spdx")
    assert status == 200
    assert headers["Content-Type"].startswith("application/spdx+json")
    doc = json.loads(text)
    assert doc["spdxVersion"] == "SPDX-2.3"
    purls = {r["referenceLocator"] for p in doc["packages"] for r in p.get("externalRefs", [])}
    assert expected <= purls


async def test_no_sbom_without_a_readable_stored_inventory(console: Console) -> None:
    status, body, _ = await console.get(f"/console/images/{B}/sbom/cyclonedx")  # never stored a scan
    assert status == 404
    assert "no stored scan" in html.unescape(body)
    _, page, _ = await console.get(f"/console/images/{B}")
    assert 'id="sbom"' not in page  # no link to a download that cannot work
    await console.store.save_scan("scan-ref", C, b'{"ref": "x"}', b"[]", b"[]", "t", packages_ref="inv/ref")
    status, body, _ = await console.get(f"/console/images/{C}/sbom/spdx")
    assert status == 409
    assert "kept in the object store at inv/ref" in html.unescape(body)
    await console.store.save_scan("scan-bad", D, b'{"ref": 7}', b'{"not": "a list"}', b"[]", "t")
    status, body, _ = await console.get(f"/console/images/{D}/sbom/cyclonedx")
    assert status == 409
    assert "its image description is unreadable" in html.unescape(body)
    status, body, _ = await console.get(f"/console/images/{A}/sbom/swid")
    assert status == 404
    assert "no SBOM format 'swid'" in html.unescape(body)
    status, _, _ = await console.get(f"/console/images/sha256:{'f' * 64}/sbom/spdx")
    assert status == 404
