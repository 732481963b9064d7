"""Debian backports: a fix Debian applied to an old upstream version is not reported as a vulnerability.

Real records from ../shared/vulndata: Debian 12 fixed CVE-2024-2398 in curl
7.88.1-10+deb12u6 (upstream fixed it in 8.7.0) and CVE-2023-49083 / CVE-2024-26130 in
python-cryptography 38.0.4-3+deb12u1 (upstream: 41.0.6 and 42.0.4). Judged by upstream
version numbers each package would still be vulnerable; judged by Debian's records, as
Assay does for Debian packages and for the language packages they install, it is not.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from schemas.records import Distro, PackageRecord
from services.vulndb import VulnDB, match_packages, update_db
from services.vulndb.versions import compare_versions
from tests.vulndb.conftest import require_vulndata

BOOKWORM = Distro(id="debian", version_id="12")
CRYPTO_DEB = "pkg:deb/debian/python3-cryptography@38.0.4-3%2Bdeb12u1?arch=amd64&distro=debian-12"


@pytest_asyncio.fixture(scope="session")
async def debian_pypi_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = require_vulndata()
    path = tmp_path_factory.mktemp("vulndb") / "debian-pypi.sqlite"
    await update_db(str(src), path, ecosystems=["Debian", "PyPI"])
    return path


@pytest.fixture
def db(debian_pypi_db_path: Path) -> Iterator[VulnDB]:
    with VulnDB.open(debian_pypi_db_path) as handle:
        yield handle


def _curl(version: str) -> PackageRecord:
    return PackageRecord(
        name="curl",
        version=version,
        type="deb",
        purl=f"pkg:deb/debian/curl@{version}?arch=amd64&distro=debian-12",
        source_name="curl",
    )


def _ids(db: VulnDB, *packages: PackageRecord) -> set[tuple[str, str]]:
    return {(m.package_purl, m.vuln_id) for m in match_packages(db, BOOKWORM, list(packages)).matches}


def test_backported_curl_fix_is_not_reported(db: VulnDB) -> None:
    # Upstream order says 7.88.1 < 8.7.0 (the upstream fix): a naive scanner reports it.
    assert compare_versions("Debian:12", "7.88.1-10+deb12u6", "8.7.0-1") < 0
    patched, older = _curl("7.88.1-10+deb12u6"), _curl("7.88.1-10+deb12u5")
    assert (patched.purl, "CVE-2024-2398") not in _ids(db, patched)
    assert (older.purl, "CVE-2024-2398") in _ids(db, older)


def test_pypi_package_installed_by_a_patched_deb_uses_the_backport(db: VulnDB) -> None:
    owned = PackageRecord(
        name="cryptography",
        version="38.0.4",
        type="pypi",
        purl="pkg:pypi/cryptography@38.0.4",
        owner=CRYPTO_DEB + "&upstream=python-cryptography",
        locations=["/usr/lib/python3/dist-packages/cryptography-38.0.4.egg-info/PKG-INFO"],
    )
    pip_installed = PackageRecord(name="cryptography", version="38.0.4", type="pypi", purl=owned.purl)
    upstream = _ids(db, pip_installed)
    assert {(owned.purl, "CVE-2023-49083"), (owned.purl, "CVE-2024-26130")} <= upstream
    debian = _ids(db, owned)
    assert (owned.purl, "CVE-2023-49083") not in debian
    assert (owned.purl, "CVE-2024-26130") not in debian
