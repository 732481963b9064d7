"""pacman's local database (``desc`` files in the shape pacman 6 writes them) and Arch's os-release."""

from pathlib import Path

from services.engine.catalogers.alpm.parse_alpm_db import alpm_to_package, parse_alpm_db
from services.engine.distro import detect

HERE = Path(__file__).parent / "testdata"
LOCAL = "var/lib/pacman/local"


def _parse(rel: str):
    return parse_alpm_db(rel, (HERE / rel).read_bytes())


def test_desc_files() -> None:
    distro = detect({"etc/os-release": (HERE / "etc/os-release").read_bytes()})
    [pacman] = _parse(f"{LOCAL}/pacman-6.0.2-5/desc").packages
    assert (pacman.name, pacman.version, pacman.arch, pacman.licenses) == (
        "pacman",
        "6.0.2-5",
        "x86_64",
        ("GPL",),
    )
    assert alpm_to_package(pacman, distro, f"/{LOCAL}/pacman-6.0.2-5/desc").purl == (
        "pkg:alpm/arch/pacman@6.0.2-5?arch=x86_64&distro=arch"
    )
    [libs] = _parse(f"{LOCAL}/gcc-libs-13.2.1-3/desc").packages
    assert (libs.source_name, libs.licenses) == ("gcc", ("GPL3", "LGPL", "FDL", "custom"))
    assert alpm_to_package(libs, distro, "/x").purl == (
        "pkg:alpm/arch/gcc-libs@13.2.1-3?arch=x86_64&distro=arch&upstream=gcc"
    )


def test_desc_without_version_is_a_problem() -> None:
    rel = f"{LOCAL}/zstd-1.5.5-1/desc"
    result = _parse(rel)
    assert (result.packages, result.problems) == ([], [f"{rel}: pacman desc without %NAME% or %VERSION%"])
