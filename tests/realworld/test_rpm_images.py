"""The RHEL 9-like (SQLite rpmdb) and CentOS 7-like (Berkeley DB rpmdb) images, scanned for real.

Oracles: Debian's rpm reading the database file taken out of the image (``rpm -qa --dbpath``),
and syft 1.18.1 scanning the same image.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.engine.catalogers.rpm.oracle import rpm_qa
from tests.harness.syft import syft_packages
from tests.realworld.scan import assay_scan

pytestmark = pytest.mark.realworld

IMAGES = {
    # image: (database path in the image, rpm backend to read it, os-release ID, VERSION_ID, cataloger)
    "rhel9": ("usr/lib/sysimage/rpm/rpmdb.sqlite", "", "rhel", "9.0", "rpmdb-sqlite"),
    "centos7": ("var/lib/rpm/Packages", "bdb_ro", "centos", "7", "rpmdb-bdb"),
}
TARGETS = {"oci": "oci:{d}/oci/{img}", "docker-archive": "docker-archive:{d}/{img}-docker.tar"}


def _blob(layout: Path, digest: str) -> Path:
    algo, hexdigest = digest.split(":", 1)
    return layout / "blobs" / algo / hexdigest


def extract_top_copy(layout: Path, member: str, dest: Path) -> Path:
    """The file ``member`` as the image's top-most layer holding it has it (no whiteouts in these images)."""
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads(_blob(layout, index["manifests"][0]["digest"]).read_text())
    for layer in reversed(manifest["layers"]):
        with tarfile.open(_blob(layout, layer["digest"])) as tar:
            for info in tar:
                if info.isreg() and info.name.lstrip("./") == member:
                    out = dest / Path(member).name
                    fh = tar.extractfile(info)
                    assert fh is not None
                    out.write_bytes(fh.read())
                    return out
    raise AssertionError(f"{member} is in no layer of {layout}")


def _scan(target: str) -> dict[str, Any]:
    code, report, stderr = assay_scan(target, db=None)
    assert code == 0, stderr
    return report


def _rpms(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in report["packages"] if p["type"] == "rpm"]


def _epoch_evr(version: str) -> str:
    return version if ":" in version else f"0:{version}"


@pytest.mark.parametrize("fmt", sorted(TARGETS))
@pytest.mark.parametrize("img", sorted(IMAGES))
def test_inventory_equals_rpm_reading_the_same_database(
    img: str, fmt: str, rpm_fixtures: Path, tmp_path: Path
) -> None:
    db_path, backend, distro_id, version_id, cataloger = IMAGES[img]
    report = _scan(TARGETS[fmt].format(d=rpm_fixtures, img=img))
    oracle = rpm_qa(extract_top_copy(rpm_fixtures / "oci" / img, db_path, tmp_path), backend=backend)
    ours = {
        (p["name"], _epoch_evr(p["version"]), p["arch"], p["metadata"]["sourcerpm"]) for p in _rpms(report)
    }
    assert len(oracle) == 5
    assert ours == oracle
    assert {p["found_by"] for p in _rpms(report)} == {cataloger}
    assert all(p["locations"] == ["/" + db_path] for p in _rpms(report))
    assert (report["image"]["distro"]["id"], report["image"]["distro"]["version_id"]) == (
        distro_id,
        version_id,
    )
    assert report["unknowns"] == []


@pytest.mark.parametrize("img", sorted(IMAGES))
def test_inventory_and_purls_equal_syft(img: str, rpm_fixtures: Path) -> None:
    report = _scan(TARGETS["oci"].format(d=rpm_fixtures, img=img))
    peer = syft_packages(f"oci-dir:{rpm_fixtures}/oci/{img}")
    assert {p.type for p in peer} == {"rpm"}
    theirs = {(p.name, p.version, p.source, p.purl) for p in peer}
    ours = {(p["name"], p["version"], p["metadata"]["sourcerpm"], p["purl"]) for p in _rpms(report)}
    assert ours == theirs


def test_rhel9_packages_record_the_layer_that_added_them(rpm_fixtures: Path) -> None:
    report = _scan(TARGETS["oci"].format(d=rpm_fixtures, img="rhel9"))
    layers = [layer["digest"] for layer in report["image"]["layers"]]
    by_name = {p["name"]: p for p in _rpms(report)}
    assert {n for n, p in by_name.items() if p["layer_digest"] == layers[0]} == {"glibc", "bash", "zlib"}
    assert {n for n, p in by_name.items() if p["layer_digest"] == layers[1]} == {"openssl-libs", "libcurl"}
    assert by_name["libcurl"]["layer_created_by"] == "RUN dnf install openssl-libs libcurl"
    ssl = by_name["openssl-libs"]
    assert (ssl["version"], ssl["source_name"], ssl["source_version"]) == (
        "1:3.0.1-43.el9_0",
        "openssl",
        "3.0.1-43.el9_0",
    )
    assert ssl["licenses"] == ["ASL 2.0"]
    assert ssl["metadata"]["epoch"] == "1"
