"""Gentoo portage: installed packages from var/db/pkg/<category>/<name>-<version>/CONTENTS."""

from pathlib import Path

from schemas.records import Distro
from services.engine.catalogers.gentoo.parse_portage_contents import (
    CATALOGER,
    ebuild_to_package,
    license_package,
    parse_license,
    parse_portage_contents,
    split_package_dir,
)

HERE = Path(__file__).parent
JQ = "testdata/var/db/pkg/app-misc/jq-1.7.1-r2/CONTENTS"


def test_name_version_and_owned_files() -> None:
    result = parse_portage_contents(JQ, (HERE / JQ).read_bytes())
    assert result.problems == []
    [raw] = result.packages
    assert (raw.name, raw.version) == ("app-misc/jq", "1.7.1-r2")
    assert raw.files == (
        "usr/bin/jq",
        "usr/lib64/libjq.so.1.0.4",
        "usr/lib64/libjq.so.1",
        "usr/share/doc/jq-1.7.1-r2/README.md.bz2",
    )
    distro = Distro(id="gentoo", version_id="2.15")
    pkg = ebuild_to_package(raw, distro, "/var/db/pkg/app-misc/jq-1.7.1-r2/CONTENTS")
    assert pkg.name == "app-misc/jq"
    assert pkg.purl == "pkg:ebuild/app-misc/jq@1.7.1-r2?distro=gentoo-2.15"


def test_versions_with_suffixes_and_the_license_companion() -> None:
    assert split_package_dir("var/db/pkg/sys-libs/glibc-2.39_p20240401-r1/CONTENTS") == (
        "sys-libs",
        "glibc",
        "2.39_p20240401-r1",
    )
    assert split_package_dir("var/db/pkg/dev-lang/python-3.12.3_rc1/CONTENTS")[1:] == ("python", "3.12.3_rc1")
    assert split_package_dir("var/db/pkg/x11-libs/gtk+-3.24.41/CONTENTS")[1:] == ("gtk+", "3.24.41")
    lic = "testdata/var/db/pkg/app-misc/jq-1.7.1-r2/LICENSE"
    assert license_package(lic) == "app-misc/jq"
    assert parse_license((HERE / lic).read_bytes()) == ["MIT CC-BY-3.0"]
    assert CATALOGER.companions[0].request.patterns == ("**/var/db/pkg/*/*/LICENSE",)


def test_a_directory_without_a_version_is_a_problem() -> None:
    result = parse_portage_contents("var/db/pkg/app-misc/jq/CONTENTS", b"dir /usr\n")
    assert result.packages == []
    assert "not <category>/<name>-<version>" in result.problems[0]
