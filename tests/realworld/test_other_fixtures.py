"""The Alpine-style image and the deliberately broken images, scanned for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness.syft import syft_packages
from tests.realworld.scan import assay_scan

pytestmark = pytest.mark.realworld


def test_alpine_inventory_equals_syft_and_matches_alpine_advisories(fixtures: Path, vuln_db: Path) -> None:
    code, report, stderr = assay_scan(f"oci:{fixtures}/oci/alpine", db=vuln_db)
    assert code == 0, stderr
    peer = {(p.name, p.version, p.source or p.name) for p in syft_packages(f"oci-dir:{fixtures}/oci/alpine")}
    ours = {(p["name"], p["version"], p["source_name"]) for p in report["packages"]}
    assert ours == peer
    assert report["image"]["distro"]["id"] == "alpine"
    found = {
        (f["package_name"], f["id"], f["fixed_version"]) for f in report["findings"] if f["category"] == "CVE"
    }
    # from the Alpine 3.20 secdb in ../shared/vulndata (see tests/fixtures/README.md)
    assert ("musl", "CVE-2025-26519", "1.2.5-r1") in found
    assert ("busybox", "CVE-2023-42364", "1.36.1-r29") in found
    assert ("libcrypto3", "CVE-2024-4741", "3.3.0-r3") in found
    assert not any(name in ("zlib", "apk-tools") for name, _, _ in found)
    assert all(f["fixed_version"] for f in report["findings"] if f["category"] == "CVE")


def test_truncated_gzip_layer_is_a_clear_error_naming_image_layer_and_file(fixtures: Path) -> None:
    code, report, stderr = assay_scan(f"oci:{fixtures}/oci/broken-gzip", db=None)
    assert code == 2
    assert report == {}
    assert f"oci:{fixtures}/oci/broken-gzip" in stderr
    assert "layer 2/2 sha256:" in stderr
    assert "truncated gzip" in stderr or "unexpected end" in stderr
    assert "while reading" in stderr


def test_corrupt_status_file_becomes_unknowns_and_the_scan_goes_on(fixtures: Path) -> None:
    code, report, stderr = assay_scan(f"oci:{fixtures}/oci/corrupt-status", db=None)
    assert code == 0, stderr
    names = {p["name"] for p in report["packages"]}
    assert {"base-files", "libc6", "zlib1g"} <= names
    unknowns = report["unknowns"]
    assert len(unknowns) == 2
    assert all(
        u["path"] == "/var/lib/dpkg/status" and u["layer_digest"].startswith("sha256:") for u in unknowns
    )
    assert "could not read /var/lib/dpkg/status" in stderr
