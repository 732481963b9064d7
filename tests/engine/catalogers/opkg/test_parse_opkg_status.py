"""OpenWrt's ``usr/lib/opkg/status`` (shape of an OpenWrt 23.05 x86/64 rootfs) and its os-release."""

from pathlib import Path

from services.engine.analyze import analyze
from services.engine.catalogers.opkg.parse_opkg_status import opkg_to_package, parse_opkg_status
from services.engine.catalogers.registry import select
from services.engine.distro import detect
from tests.engine.memimage import Entry, Layer, MemoryImage

HERE = Path(__file__).parent / "testdata"


def test_installed_stanzas_only() -> None:
    result = parse_opkg_status("usr/lib/opkg/status", (HERE / "usr/lib/opkg/status").read_bytes())
    assert [(p.name, p.version, p.arch) for p in result.packages] == [
        ("libc", "1.2.4-4", "x86_64"),  # "install hold installed"
        ("busybox", "1.36.1-1", "x86_64"),
        ("dropbear", "2022.82-6", "x86_64"),
        ("luci-app-firewall", "git-23.051.66410-a505bb1", "all"),
    ]  # kmod-nft-offload is "not-installed"
    assert result.problems == ["usr/lib/opkg/status: stanza at line 39: no Version field"]


def test_purl_names_the_distribution() -> None:
    distro = detect({"etc/os-release": (HERE / "etc/os-release").read_bytes()})
    assert distro is not None
    assert (distro.id, distro.version_id) == ("openwrt", "23.05.2")
    raw = parse_opkg_status("usr/lib/opkg/status", (HERE / "usr/lib/opkg/status").read_bytes()).packages[1]
    pkg = opkg_to_package(raw, distro, "/usr/lib/opkg/status")
    assert (pkg.type, pkg.purl) == (
        "opkg",
        "pkg:opkg/openwrt/busybox@1.36.1-1?arch=x86_64&distro=openwrt-23.05.2",
    )
    assert (
        opkg_to_package(raw, None, "/usr/lib/opkg/status").purl
        == "pkg:opkg/openwrt/busybox@1.36.1-1?arch=x86_64"
    )


async def test_an_openwrt_rootfs_scans_to_opkg_records() -> None:
    layer = Layer(
        [
            Entry("etc/os-release", (HERE / "etc/os-release").read_bytes()),
            Entry("usr/lib/opkg/status", (HERE / "usr/lib/opkg/status").read_bytes()),
        ]
    )
    analysis = await analyze(MemoryImage([layer]), select())
    assert analysis.image.distro is not None
    assert analysis.image.distro.id == "openwrt"
    assert sorted(p.purl for p in analysis.packages) == [
        "pkg:opkg/openwrt/busybox@1.36.1-1?arch=x86_64&distro=openwrt-23.05.2",
        "pkg:opkg/openwrt/dropbear@2022.82-6?arch=x86_64&distro=openwrt-23.05.2",
        "pkg:opkg/openwrt/libc@1.2.4-4?arch=x86_64&distro=openwrt-23.05.2",
        "pkg:opkg/openwrt/luci-app-firewall@git-23.051.66410-a505bb1?arch=all&distro=openwrt-23.05.2",
    ]
    assert {u.reason for u in analysis.unknowns} == {
        "usr/lib/opkg/status: stanza at line 39: no Version field"
    }
