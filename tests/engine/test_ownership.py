"""OS ownership: language packages whose files an OS package installed carry that package's purl."""

from __future__ import annotations

import tracemalloc

from services.engine.analyze import analyze
from services.engine.budget import ScanBudget
from services.engine.catalogers.debian.companions import dpkg_list_package, iter_dpkg_list, parse_dpkg_list
from services.engine.catalogers.registry import select
from services.engine.ownership import OwnershipIndex, location_path
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


def test_index_holds_at_most_its_cap_and_counts_the_lists_cut_short() -> None:
    index = OwnershipIndex(max_paths=1000)
    data = b"".join(b"/usr/share/doc/p/file-%d\n" % i for i in range(5000))
    index.add_pending(iter_dpkg_list("var/lib/dpkg/info/p.list", data), "p")
    index.add_pending(iter_dpkg_list("var/lib/dpkg/info/q.list", b"/usr/share/doc/p/file-1\n/q\n"), "q")
    index.bind("p", "pkg:deb/debian/p@1")
    assert (len(index), index.dropped) == (1000, 2)
    assert index.owner_of("/usr/share/doc/p/file-999") == "pkg:deb/debian/p@1"
    assert index.owner_of("usr/share/doc/p/file-1000") is None


def test_pending_dpkg_paths_have_no_owner_until_bound() -> None:
    index = OwnershipIndex()
    index.add_pending(["usr/bin/x"], "x")
    assert index.owner_of("usr/bin/x") is None
    index.bind("x", "pkg:deb/debian/x@1")
    index.bind("x", "pkg:deb/debian/x@2")  # the first package bound wins
    assert index.owner_of("/usr/bin/x") == "pkg:deb/debian/x@1"


def test_a_large_list_is_indexed_compactly() -> None:
    # issue 18: 8 x 32 MiB .list files took 6.2 GiB as lists of strings and a dict of strings
    paths = [f"usr/lib/x86_64-linux-gnu/some-library-directory/file-number-{i:08d}" for i in range(100_000)]
    data = "".join(f"/{p}\n" for p in paths).encode()
    tracemalloc.start()
    try:
        index = OwnershipIndex()
        index.add_pending(iter_dpkg_list("var/lib/dpkg/info/big.list", data), "big")
        size, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(index) == len(paths)
    assert size < 100 * len(paths)  # under 100 bytes a path: the strings themselves are not kept


async def test_a_list_over_the_parsed_file_budget_is_an_unknown_naming_it() -> None:
    image = MemoryImage(
        [
            Layer(
                [
                    Entry("etc/os-release", _OS_RELEASE),
                    Entry("var/lib/dpkg/status", _STATUS),
                    Entry("var/lib/dpkg/info/python3-requests.list", _LIST + b"/x\n" * 1000),
                    Entry(f"{_EGG}/PKG-INFO", _PKG_INFO),
                ]
            )
        ]
    )
    analysis = await analyze(image, select(), budget=ScanBudget(parsed_file_bytes_max=1024))
    assert [p.owner for p in analysis.packages if p.type == "pypi"] == [""]
    (unknown,) = [u for u in analysis.unknowns if u.path.endswith(".list")]
    assert "scan budget parsed_file_bytes_max exceeded (limit 1024" in unknown.reason
