"""R DESCRIPTION files in library trees (CRAN's jsonlite as R CMD INSTALL leaves it, base R's stats)."""

from pathlib import Path

from services.engine.catalogers.r.parse_description import cran_to_package, parse_description

HERE = Path(__file__).parent / "testdata"


def _parse(rel: str):
    return parse_description(rel, (HERE / rel).read_bytes())


def test_installed_packages() -> None:
    rel = "usr/local/lib/R/site-library/jsonlite/DESCRIPTION"
    [raw] = _parse(rel).packages
    pkg = cran_to_package(raw, None, "/" + rel)
    assert (pkg.purl, pkg.licenses, pkg.declared) == (
        "pkg:cran/jsonlite@1.8.8",
        ["MIT + file LICENSE"],
        False,
    )
    assert raw.metadata == {
        "built": "R 4.3.2; x86_64-pc-linux-gnu; 2024-01-15 10:02:11 UTC; unix",
        "repository": "CRAN",
    }
    [stats] = _parse("usr/lib/R/library/stats/DESCRIPTION").packages
    assert (stats.name, stats.version) == ("stats", "4.3.2")


def test_uninstalled_sources_and_bad_files() -> None:
    assert _parse("usr/local/lib/R/site-library/devpkg/DESCRIPTION").packages == []  # no Built field
    result = parse_description("l/x/DESCRIPTION", b"Package: x\nBuilt: R 4.3.2; ; 2024-01-01; unix\n")
    assert (result.packages, result.problems) == (
        [],
        ["l/x/DESCRIPTION: installed R package without Package or Version"],
    )
