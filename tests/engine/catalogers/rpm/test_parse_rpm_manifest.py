"""Mariner distroless ``container-manifest-2`` (fixture copied from anchore/syft
``syft/pkg/cataloger/redhat/testdata/container-manifest-2``)."""

from pathlib import Path

from schemas.records import Distro
from services.engine.analyze import analyze
from services.engine.catalogers.registry import select
from services.engine.catalogers.rpm.package import rpm_to_package
from services.engine.catalogers.rpm.parse_rpm_manifest import parse_rpm_manifest
from tests.engine.memimage import Entry, Layer, MemoryImage

HERE = Path(__file__).parent
REL = "testdata/var/lib/rpmmanifest/container-manifest-2"


def test_one_package_per_line() -> None:
    result = parse_rpm_manifest(REL, (HERE / REL).read_bytes())
    assert result.problems == []
    assert [(p.name, p.version, p.arch) for p in result.packages] == [
        ("mariner-release", "2.0-12.cm2", "noarch"),
        ("filesystem", "1.1-9.cm2", "x86_64"),
        ("glibc", "2.35-2.cm2", "x86_64"),
        ("openssl-libs", "1.1.1k-15.cm2", "x86_64"),
        ("vim", "2:9.0-1.cm2", "x86_64"),  # epoch 2
    ]
    openssl = result.packages[3]
    assert (openssl.source_name, openssl.source_version) == ("openssl", "1.1.1k-15.cm2")
    assert openssl.metadata == {
        "vendor": "Microsoft Corporation",
        "release": "15.cm2",
        "sourcerpm": "openssl-1.1.1k-15.cm2.src.rpm",
    }


def test_record_is_an_rpm_of_the_distribution() -> None:
    raw = parse_rpm_manifest(REL, (HERE / REL).read_bytes()).packages[4]
    pkg = rpm_to_package(raw, Distro(id="mariner", version_id="2.0"), "/" + REL.removeprefix("testdata/"))
    assert pkg.purl == (
        "pkg:rpm/mariner/vim@9.0-1.cm2?arch=x86_64&distro=mariner-2.0&epoch=2&upstream=vim-9.0-1.cm2.src.rpm"
    )


def test_short_lines_and_bad_epochs_are_problems() -> None:
    data = b"glibc\t2.35-2.cm2\n" + b"bash\t5.1-1\t0\t0\tv\tx\t1\tx86_64\t0\tbash-5.1-1.src.rpm\n"
    result = parse_rpm_manifest("m", data)
    assert result.packages == []
    assert result.problems == [
        "m: line 1: expected 10 tab-separated fields with name and version",
        "m: line 2: epoch 'x' is not a number",
    ]


async def test_a_distroless_mariner_image_scans_to_rpm_records() -> None:
    os_release = b'NAME="Common Base Linux Mariner"\nVERSION="2.0.20220527"\nID=mariner\nVERSION_ID="2.0"\n'
    layer = Layer(
        [
            Entry("etc/os-release", os_release),
            Entry("var/lib/rpmmanifest/container-manifest-2", (HERE / REL).read_bytes()),
        ]
    )
    analysis = await analyze(MemoryImage([layer]), select())
    found = {p.name: p for p in analysis.packages}
    assert set(found) == {"mariner-release", "filesystem", "glibc", "openssl-libs", "vim"}
    assert found["glibc"].purl == (
        "pkg:rpm/mariner/glibc@2.35-2.cm2?arch=x86_64&distro=mariner-2.0&upstream=glibc-2.35-2.cm2.src.rpm"
    )
    assert found["glibc"].locations == ["/var/lib/rpmmanifest/container-manifest-2"]
    assert analysis.unknowns == []
