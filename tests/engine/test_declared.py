"""Declared packages in image scans: reported when only a lockfile names them."""

from __future__ import annotations

from services.engine.analyze import analyze
from services.engine.catalogers.registry import select
from services.engine.declared import in_installed_tree
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
    }
