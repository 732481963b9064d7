"""OS ownership: language packages whose files an OS package installed carry that package's purl."""

from __future__ import annotations

from services.engine.analyze import analyze
from services.engine.catalogers.registry import select
from services.engine.ownership import (
    OwnershipIndex,
    dpkg_list_package,
    location_path,
    parse_dpkg_list,
)
from tests.engine.memimage import Entry, Layer, MemoryImage

_OS_RELEASE = b'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'
_STATUS = b"""Package: python3-requests
Status: install ok installed
Architecture: all
Version: 2.28.1+dfsg-1
Source: requests

"""
_EGG = "usr/lib/python3/dist-packages/requests-2.28.1.egg-info"
_PKG_INFO = b"Metadata-Version: 2.1\nName: requests\nVersion: 2.28.1\n"
_LIST = f"/.\n/usr\n/usr/lib/python3/dist-packages\n/{_EGG}\n/{_EGG}/PKG-INFO\n".encode()


def test_dpkg_list_file_names_and_contents() -> None:
    assert dpkg_list_package("var/lib/dpkg/info/libssl3:amd64.list") == "libssl3"
    assert dpkg_list_package("var/lib/dpkg/status.d/base-files.md5sums") == "base-files"
    assert parse_dpkg_list("var/lib/dpkg/info/x.list", b"/.\n/usr/bin/x\n\n") == ["usr/bin/x"]
    md5 = b"0123456789abcdef0123456789abcdef  usr/bin/x\nnot-a-pair\n"
    assert parse_dpkg_list("var/lib/dpkg/status.d/x.md5sums", md5) == ["usr/bin/x"]


def test_index_resolves_nested_locations_to_their_outer_file() -> None:
    index = OwnershipIndex()
    index.add(["usr/share/java/app.war"], "pkg:deb/debian/app@1")
    assert location_path("/usr/share/java/app.war:WEB-INF/lib/x.jar") == "usr/share/java/app.war"
    assert index.owner_of_locations(["/usr/share/java/app.war:WEB-INF/lib/x.jar"]) == "pkg:deb/debian/app@1"
    assert index.owner_of_locations(["/opt/app.war"]) is None


async def test_debian_owned_python_package_names_its_owner_and_pip_one_does_not() -> None:
    image = MemoryImage(
        [
            Layer(
                [
                    Entry("etc/os-release", _OS_RELEASE),
                    Entry("var/lib/dpkg/status", _STATUS),
                    Entry("var/lib/dpkg/info/python3-requests.list", _LIST),
                    Entry(f"{_EGG}/PKG-INFO", _PKG_INFO),
                ]
            ),
            Layer(
                [
                    Entry(
                        "opt/app/requests-2.19.0.dist-info/METADATA",
                        b"Metadata-Version: 2.1\nName: requests\nVersion: 2.19.0\n",
                    )
                ]
            ),
        ]
    )
    analysis = await analyze(image, select())
    pypi = {p.version: p for p in analysis.packages if p.type == "pypi"}
    deb = next(p for p in analysis.packages if p.type == "deb")
    assert pypi["2.28.1"].owner == deb.purl
    assert pypi["2.19.0"].owner == ""
    assert deb.owner == ""
    assert deb.found_by == "dpkg-status"


async def test_a_deleted_list_file_owns_nothing() -> None:
    image = MemoryImage(
        [
            Layer(
                [
                    Entry("etc/os-release", _OS_RELEASE),
                    Entry("var/lib/dpkg/status", _STATUS),
                    Entry("var/lib/dpkg/info/python3-requests.list", _LIST),
                    Entry(f"{_EGG}/PKG-INFO", _PKG_INFO),
                ]
            ),
            Layer([Entry("var/lib/dpkg/info/.wh.python3-requests.list", b"")]),
        ]
    )
    analysis = await analyze(image, select())
    assert [p.owner for p in analysis.packages if p.type == "pypi"] == [""]
