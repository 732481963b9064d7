"""Declared packages in image scans: reported when only a lockfile names them."""

from __future__ import annotations

from pathlib import Path

from services.engine.analyze import analyze
from services.engine.catalogers.registry import select
from services.engine.declared import in_installed_tree
from services.vulndb.db import VulnDB
from services.vulndb.ingest import update_db
from services.vulndb.matcher import match_packages
from tests.engine.memimage import Entry, Layer, MemoryImage

_LOCK = b"""{
  "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
  "packages": {
    "": {"name": "app", "version": "1.0.0", "dependencies": {"lodash": "4.17.15", "minimist": "1.2.0"}},
    "node_modules/lodash": {"version": "4.17.15", "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.15.tgz"},
    "node_modules/minimist": {"version": "1.2.0", "resolved": "https://registry.npmjs.org/minimist/-/minimist-1.2.0.tgz"}
  }
}
"""
_INSTALLED = b'{"name": "lodash", "version": "4.17.15", "license": "MIT"}'


def test_installed_trees() -> None:
    assert in_installed_tree("/usr/lib/ruby/gems/3.1.0/gems/typeprof-0.21.2/Gemfile.lock")
    assert in_installed_tree("/srv/app/node_modules/x/package-lock.json")
    assert in_installed_tree("/root/go/pkg/mod/example.com/m@v1.0.0/go.mod")
    assert not in_installed_tree("/srv/app/package-lock.json")
    assert not in_installed_tree("/app/pkg/go.mod")


async def test_lockfile_packages_are_declared_unless_installed() -> None:
    image = MemoryImage(
        [
            Layer(
                [
                    Entry("srv/app/package-lock.json", _LOCK),
                    Entry("srv/app/node_modules/lodash/package.json", _INSTALLED),
                    Entry("usr/lib/ruby/gems/3.1.0/gems/tool-1.0/package-lock.json", _LOCK),
                ]
            )
        ]
    )
    analysis = await analyze(image, select())
    npm = {(p.name, p.declared, p.locations[0]) for p in analysis.packages if p.type == "npm"}
    assert npm == {
        ("lodash", False, "/srv/app/node_modules/lodash/package.json"),
        ("minimist", True, "/srv/app/package-lock.json"),
        ("app", True, "/srv/app/package-lock.json"),  # the project itself (role: root), as syft lists it
    }


# Debian 12's ruby-rack installs rack's gemspec into rubygems-integration; the app pins an older rack.
_RACK_IMAGE = [
    Entry("etc/os-release", b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'),
    Entry(
        "var/lib/dpkg/status",
        b"Package: ruby-rack\nStatus: install ok installed\nPriority: optional\nSection: ruby\n"
        b"Maintainer: Debian Ruby Team <pkg-ruby-extras-maintainers@lists.alioth.debian.org>\n"
        b"Architecture: all\nVersion: 2.2.4-3\nDepends: ruby\n"
        b"Description: modular Ruby webserver interface\n",
    ),
    Entry(
        "var/lib/dpkg/info/ruby-rack.list",
        b"/.\n/usr/share/rubygems-integration/all/specifications/rack-2.2.4.gemspec\n",
    ),
    Entry(
        "usr/share/rubygems-integration/all/specifications/rack-2.2.4.gemspec",
        b'# -*- encoding: utf-8 -*-\nGem::Specification.new do |s|\n  s.name = "rack".freeze\n'
        b'  s.version = "2.2.4"\n  s.licenses = ["MIT".freeze]\nend\n',
    ),
    Entry(
        "srv/app/Gemfile.lock",
        b"GEM\n  remote: https://rubygems.org/\n  specs:\n    rack (2.0.1)\n\nPLATFORMS\n  ruby\n\n"
        b"DEPENDENCIES\n  rack (= 2.0.1)\n\nBUNDLED WITH\n   2.3.26\n",
    ),
]


async def test_lockfile_pin_beside_the_distributions_copy_is_reported_too() -> None:
    analysis = await analyze(MemoryImage([Layer(_RACK_IMAGE)]), select())
    found = {
        (p.type, p.name, p.version, p.declared, p.locations[0], bool(p.owner)) for p in analysis.packages
    }
    assert found == {
        ("deb", "ruby-rack", "2.2.4-3", False, "/var/lib/dpkg/status", False),
        (
            "gem",
            "rack",
            "2.2.4",
            False,
            "/usr/share/rubygems-integration/all/specifications/rack-2.2.4.gemspec",
            True,
        ),
        ("gem", "rack", "2.0.1", True, "/srv/app/Gemfile.lock", False),
    }


async def test_each_copy_is_matched_against_its_own_advisories(vulndata: Path, tmp_path: Path) -> None:
    """Real RUBYSEC records from ../shared/vulndata/RubyGems; Debian's records for the deb."""
    db_path = tmp_path / "vuln.db"
    await update_db(str(vulndata), db_path, ecosystems=["Debian", "RubyGems"])
    analysis = await analyze(MemoryImage([Layer(_RACK_IMAGE)]), select())
    with VulnDB.open(db_path) as db:
        result = match_packages(db, analysis.image.distro, analysis.packages)
    by_purl: dict[str, set[str]] = {}
    for m in result.matches:
        by_purl.setdefault(m.package_purl, set()).add(m.vuln_id)
        assert (m.package_purl.startswith("pkg:gem/"), m.ecosystem) in (
            (True, "RubyGems"),
            (False, "Debian:12"),
        )
    pinned = by_purl.get("pkg:gem/rack@2.0.1", set())
    # fixed in 2.0.6, 2.0.8, 2.1.3 and 2.0.9.1 (RUBYSEC/GHSA records); CVE-2018-16470 starts at 2.0.4
    assert {"CVE-2018-16471", "CVE-2019-16782", "CVE-2020-8161", "CVE-2022-30122"} <= pinned
    assert len(pinned) >= 10
    # Debian's copy is looked up as ruby-rack in Debian's records only, never as upstream rack
    assert not any(p.startswith("pkg:gem/rack@2.2.4") for p in by_purl)


async def test_a_pin_equal_to_the_installed_version_is_one_package() -> None:
    """``Django==3.2.0`` in requirements.txt is the installed Django 3.2 (PEP 440: equal versions)."""
    metadata = b"Metadata-Version: 2.1\nName: Django\nVersion: 3.2\n"
    image = MemoryImage(
        [
            Layer(
                [
                    Entry("srv/app/requirements.txt", b"Django==3.2.0\nrequests==2.19.0\n"),
                    Entry("usr/local/lib/python3.11/site-packages/Django-3.2.dist-info/METADATA", metadata),
                ]
            )
        ]
    )
    analysis = await analyze(image, select())
    assert {(p.name, p.version, p.declared) for p in analysis.packages} == {
        ("Django", "3.2", False),
        ("requests", "2.19.0", True),
    }
