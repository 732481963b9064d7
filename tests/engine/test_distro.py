"""Distribution detection from release files, with the texts the real distributions ship."""

from __future__ import annotations

import pytest

from schemas.records import Distro
from services.engine.distro import REQUEST, detect, parse_os_release
from services.engine.requests import RequestMatcher

# os-release files as the images ship them (abridged to the fields detection reads, plus a few others)
RHEL9 = b"""NAME="Red Hat Enterprise Linux"
VERSION="9.3 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Red Hat Enterprise Linux 9.3 (Plow)"
CPE_NAME="cpe:/o:redhat:enterprise_linux:9::baseos"
"""
ROCKY9 = b"""NAME="Rocky Linux"
VERSION="9.3 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
"""
ALMA9 = b"""NAME="AlmaLinux"
VERSION="9.3 (Shamrock Pink)"
ID="almalinux"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PRETTY_NAME="AlmaLinux 9.3 (Shamrock Pink)"
"""
CENTOS7 = b"""NAME="CentOS Linux"
VERSION="7 (Core)"
ID="centos"
ID_LIKE="rhel fedora"
VERSION_ID="7"
PRETTY_NAME="CentOS Linux 7 (Core)"
"""
AMZN2023 = b"""NAME="Amazon Linux"
VERSION="2023"
ID="amzn"
ID_LIKE="fedora"
VERSION_ID="2023"
PLATFORM_ID="platform:al2023"
PRETTY_NAME="Amazon Linux 2023.6.20241212"
"""
FEDORA39 = b"""NAME="Fedora Linux"
VERSION="39 (Container Image)"
ID=fedora
VERSION_ID=39
VERSION_CODENAME=""
PRETTY_NAME="Fedora Linux 39 (Container Image)"
"""
UBUNTU2204 = b"""PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=jammy
"""
UBUNTU1804_NO_VERSION_CODENAME = b"""NAME="Ubuntu"
VERSION="18.04.6 LTS (Bionic Beaver)"
ID=ubuntu
ID_LIKE=debian
PRETTY_NAME="Ubuntu 18.04.6 LTS"
VERSION_ID="18.04"
UBUNTU_CODENAME=bionic
"""
DISTROLESS12 = b"""PRETTY_NAME="Distroless"
NAME="Debian GNU/Linux"
ID="debian"
VERSION_ID="12"
VERSION="Debian GNU/Linux 12 (bookworm)"
HOME_URL="https://github.com/GoogleContainerTools/distroless"
"""
DEBIAN_SID = b"""PRETTY_NAME="Debian GNU/Linux trixie/sid"
NAME="Debian GNU/Linux"
VERSION_CODENAME=trixie
ID=debian
"""


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"etc/os-release": RHEL9},
            Distro(id="rhel", version_id="9.3", pretty_name="Red Hat Enterprise Linux 9.3 (Plow)"),
        ),
        (
            {"etc/os-release": ROCKY9},
            Distro(id="rocky", version_id="9.3", pretty_name="Rocky Linux 9.3 (Blue Onyx)"),
        ),
        (
            {"usr/lib/os-release": ALMA9},
            Distro(id="almalinux", version_id="9.3", pretty_name="AlmaLinux 9.3 (Shamrock Pink)"),
        ),
        (
            {"etc/os-release": CENTOS7},
            Distro(id="centos", version_id="7", pretty_name="CentOS Linux 7 (Core)"),
        ),
        (
            {"etc/os-release": AMZN2023},
            Distro(id="amzn", version_id="2023", pretty_name="Amazon Linux 2023.6.20241212"),
        ),
        (
            {"etc/os-release": FEDORA39},
            Distro(id="fedora", version_id="39", pretty_name="Fedora Linux 39 (Container Image)"),
        ),
        (
            {"etc/os-release": UBUNTU2204},
            Distro(id="ubuntu", version_id="22.04", pretty_name="Ubuntu 22.04.4 LTS", codename="jammy"),
        ),
        (
            {"etc/os-release": UBUNTU1804_NO_VERSION_CODENAME},
            Distro(id="ubuntu", version_id="18.04", pretty_name="Ubuntu 18.04.6 LTS", codename="bionic"),
        ),
        (
            {"etc/os-release": DISTROLESS12, "var/lib/dpkg/status.d/libc6": b"Package: libc6\n"},
            Distro(id="debian", version_id="12", pretty_name="Distroless", codename="bookworm"),
        ),
        (
            {"etc/os-release": DEBIAN_SID, "etc/debian_version": b"trixie/sid\n"},
            Distro(id="debian", version_id="", pretty_name="Debian GNU/Linux trixie/sid", codename="trixie"),
        ),
    ],
    ids=lambda v: v.id if isinstance(v, Distro) else "",
)
def test_os_release(files: dict[str, bytes], expected: Distro) -> None:
    assert detect(files) == expected


def test_os_release_without_version_id_takes_debian_version() -> None:
    files = {"etc/os-release": b'ID=debian\nPRETTY_NAME="Debian"\n', "etc/debian_version": b"11.9\n"}
    assert detect(files) == Distro(id="debian", version_id="11", pretty_name="Debian")


@pytest.mark.parametrize(
    ("name", "text", "distro_id", "version"),
    [
        ("etc/redhat-release", "Red Hat Enterprise Linux Server release 7.9 (Maipo)", "rhel", "7.9"),
        ("etc/redhat-release", "Red Hat Enterprise Linux release 8.10 (Ootpa)", "rhel", "8.10"),
        ("etc/centos-release", "CentOS Linux release 7.9.2009 (Core)", "centos", "7.9.2009"),
        ("etc/centos-release", "CentOS Stream release 9", "centos", "9"),
        ("etc/rocky-release", "Rocky Linux release 8.9 (Green Obsidian)", "rocky", "8.9"),
        ("etc/almalinux-release", "AlmaLinux release 9.3 (Shamrock Pink)", "almalinux", "9.3"),
        ("etc/fedora-release", "Fedora release 39 (Thirty Nine)", "fedora", "39"),
        ("etc/system-release", "Amazon Linux release 2 (Karoo)", "amzn", "2"),
        ("etc/system-release", "Amazon Linux AMI release 2018.03", "amzn", "2018.03"),
    ],
)
def test_redhat_family_release_files(name: str, text: str, distro_id: str, version: str) -> None:
    assert detect({name: text.encode() + b"\n"}) == Distro(id=distro_id, version_id=version, pretty_name=text)


def test_specific_release_file_wins_over_redhat_release() -> None:
    """CentOS and Rocky images carry a redhat-release too (a copy or a symlink the walk does not follow)."""
    files = {
        "etc/redhat-release": b"CentOS Linux release 7.9.2009 (Core)\n",
        "etc/rocky-release": b"Rocky Linux release 9.3 (Blue Onyx)\n",
    }
    assert detect(files) == Distro(
        id="rocky", version_id="9.3", pretty_name="Rocky Linux release 9.3 (Blue Onyx)"
    )


def test_oracle_linux_6_without_os_release_is_oracle_not_the_rhel_its_redhat_release_names() -> None:
    files = {
        "etc/redhat-release": b"Red Hat Enterprise Linux Server release 6.10 (Santiago)\n",
        "etc/oracle-release": b"Oracle Linux Server release 6.10\n",
        "etc/system-release": b"Oracle Linux Server release 6.10\n",
    }
    found = detect(files)
    assert found is not None
    assert (found.id, found.version_id) == ("ol", "6.10")


def test_os_release_wins_over_release_files() -> None:
    files = {
        "etc/os-release": CENTOS7,
        "etc/redhat-release": b"Red Hat Enterprise Linux release 8.10 (Ootpa)\n",
    }
    found = detect(files)
    assert found is not None
    assert (found.id, found.version_id) == ("centos", "7")


def test_distroless_with_only_dpkg_status_d() -> None:
    found = detect({"var/lib/dpkg/status.d/base-files": b"Package: base-files\n"})
    assert found is not None
    assert (found.id, found.version_id) == ("debian", "")


def test_nothing_recognisable() -> None:
    assert detect({}) is None
    assert detect({"etc/os-release": b"# no ID here\nNAME=x\n", "etc/redhat-release": b"garbage\n"}) is None


def test_request_asks_for_every_release_file_and_distroless_status_d() -> None:
    matcher = RequestMatcher([REQUEST])
    for path in (
        "etc/os-release",
        "etc/system-release",
        "etc/rocky-release",
        "etc/almalinux-release",
        "etc/oracle-release",
        "var/lib/dpkg/status.d/libc6",
    ):
        assert matcher.match(path) == [REQUEST], path
    assert matcher.match("var/lib/dpkg/status") == []


def test_parse_os_release_quoting() -> None:
    fields = parse_os_release(
        b'A=\'single quoted\'\nB="with \\"escape\\""\n# comment\nC=unterminated "x\nD=\n'
    )
    assert fields["A"] == "single quoted"
    assert fields["B"] == 'with "escape"'
    assert fields["C"] == 'unterminated "x'
    assert fields["D"] == ""
