"""Every registered cataloger has its own parser test module and real-format fixtures beside it."""

from pathlib import Path

import pytest

from services.engine.catalogers.registry import CATALOGERS, select
from services.engine.requests import glob_matches

HERE = Path(__file__).parent


@pytest.mark.parametrize("cataloger", CATALOGERS, ids=lambda c: c.name)
def test_cataloger_has_tests_and_fixtures(cataloger) -> None:
    module = cataloger.parse.__module__  # services.engine.catalogers.<eco>.parse_<format>
    eco, name = module.split(".")[-2:]
    assert (HERE / eco / f"test_{name}.py").is_file()
    fixtures = [p for p in (HERE / eco).glob("testdata*/**/*") if p.is_file()]
    assert fixtures, f"{cataloger.name} has no fixtures under tests/engine/catalogers/{eco}/testdata"
    # at least one fixture sits at a path the cataloger asks for, as in a real filesystem
    rels = [str(Path(*p.relative_to(HERE / eco).parts[1:])) for p in fixtures]
    assert any(glob_matches(pat, rel) for pat in cataloger.request.patterns for rel in rels), rels


def test_names_are_unique_and_selection_by_tag() -> None:
    names = [c.name for c in CATALOGERS]
    assert len(names) == len(set(names))
    assert {c.name for c in select(("os",))} == {
        "dpkg-status",
        "apk-db",
        "rpmdb-sqlite",
        "rpmdb-bdb",
        "rpmdb-ndb",
        "rpm-manifest",
        "opkg-status",
        "alpm-db",
        "portage-contents",
        "nix-store",
    }
    declared = select(("declared",))
    assert declared
    assert all("image" in c.tags for c in declared)
