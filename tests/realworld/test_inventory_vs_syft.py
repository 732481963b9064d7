"""Assay's package inventory against syft's on every fixture image, difference by difference.

For each image the test prints both sides' (purl type, name, version) sets and every
difference. Each difference must be listed in ``docs/inventory-vs-syft.md`` with the reason
Assay is right, and each listed difference must still occur: the document cannot go stale
in either direction.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from packageurl import PackageURL

from tests.harness.requirements import REPO, require
from tests.harness.syft import syft_packages
from tests.realworld.scan import assay_scan

pytestmark = pytest.mark.realworld

DOC = REPO / "docs" / "inventory-vs-syft.md"

# image name in the doc -> path under the fixtures dir (an OCI layout)
IMAGES = {
    "debian": "oci/debian",
    "alpine": "oci/alpine",
    "rhel9": "rpm/oci/rhel9",
    "centos7": "rpm/oci/centos7",
}

Key = tuple[str, str, str]  # (purl type, purl namespace/name, version): purls are the join keys
_ROW = re.compile(
    r"^\|\s*(?P<image>[\w.-]+)\s*\|\s*(?P<side>assay|syft)\s*\|\s*(?P<type>[\w-]+)\s*\|"
    r"\s*`(?P<name>[^`]+)`\s*\|\s*`(?P<version>[^`]*)`\s*\|\s*(?P<why>.+?)\s*\|\s*$"
)


def _key(purl: str, version: str) -> Key:
    """Type and name as the purl spells them (names normalised per ecosystem), with the version."""
    parsed = PackageURL.from_string(purl)
    name = f"{parsed.namespace}/{parsed.name}" if parsed.namespace else parsed.name
    return (parsed.type, name, version)


def documented() -> dict[tuple[str, str, Key], str]:
    """``(image, side, key) -> reason`` from the doc's difference tables."""
    out: dict[tuple[str, str, Key], str] = {}
    for line in DOC.read_text().splitlines():
        m = _ROW.match(line)
        if m is not None:
            key = (m["type"], m["name"], m["version"])
            out[(m["image"], m["side"], key)] = m["why"]
    return out


@pytest.mark.parametrize("image", sorted(IMAGES))
def test_inventory_matches_syft_or_the_difference_is_documented(fixtures: Path, image: str) -> None:
    layout = fixtures / IMAGES[image]
    require(layout.is_dir(), f"fixture image {layout} not built (make fixtures)")
    code, report, stderr = assay_scan(f"oci:{layout}", db=None)
    assert code == 0, stderr
    ours: set[Key] = {_key(p["purl"], p["version"]) for p in report["packages"]}
    theirs: set[Key] = {_key(p.purl, p.version) for p in syft_packages(f"oci-dir:{layout}") if p.purl}
    only = {"assay": ours - theirs, "syft": theirs - ours}
    print(f"\n{image}: assay {len(ours)} packages, syft {len(theirs)}, common {len(ours & theirs)}")
    for side, keys in only.items():
        for key in sorted(keys):
            print(f"  only in {side}: {key}")
    notes = documented()
    undocumented = [
        f"| {image} | {side} | {k[0]} | `{k[1]}` | `{k[2]}` | ... |"
        for side, keys in only.items()
        for k in sorted(keys)
        if (image, side, k) not in notes
    ]
    assert not undocumented, f"differences not explained in {DOC.name}:\n" + "\n".join(undocumented)
    stale = [f"{img} {side} {key}" for (img, side, key) in notes if img == image and key not in only[side]]
    assert not stale, f"{DOC.name} lists differences that no longer occur:\n" + "\n".join(stale)
