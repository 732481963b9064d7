"""Java archives and Go binaries in the Debian fixture image, with syft 1.18.1 as the peer.

The image (tests/fixtures/build-images.sh) holds Debian's log4j2/jackson/httpclient/slf4j jars in
/usr/share/java, a log4j-core 2.14.1 jar at /opt/javaapp/lib, the Go binary
/opt/goapp/fixture-goapp (golang.org/x/text v0.3.0) and Debian's Go-built /usr/bin/docker-registry.

Known differences from syft, asserted below so a change on either side shows:
- /usr/bin/docker-registry was built by Debian in GOPATH mode: its build info has a ``path``
  but no ``mod`` line, only the toolchain. syft still reports the path as a module, with a
  version (v2.8.2+ds1) it finds by searching the whole binary's contents; Assay reads only the
  build info, so it reports just ``stdlib`` there.
- Assay percent-encodes ``(devel)`` in purls (``%28devel%29``), as the purl spec's encoding
  rules say; syft leaves the parentheses.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.harness.syft import SyftPackage, syft_packages
from tests.realworld.scan import assay_scan

pytestmark = pytest.mark.realworld

SYFT_ONLY = {("github.com/docker/distribution/cmd/registry", "v2.8.2+ds1", "/usr/bin/docker-registry")}


@cache
def _report(fixtures: Path) -> dict[str, Any]:
    code, report, stderr = assay_scan(f"oci:{fixtures}/oci/debian", db=None)
    assert code == 0, stderr
    return report


@cache
def _syft(fixtures: Path) -> tuple[SyftPackage, ...]:
    return tuple(syft_packages(f"oci-dir:{fixtures}/oci/debian"))


def _assay(fixtures: Path, ptype: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {
        (p["name"], p["version"], p["locations"][0]): p
        for p in _report(fixtures)["packages"]
        if p["type"] == ptype
    }


def _peer(fixtures: Path, ptype: str) -> set[tuple[str, str, str]]:
    return {(p.name, p.version, p.paths[0]) for p in _syft(fixtures) if p.type == ptype}


def test_log4j_core_and_debian_jars(fixtures: Path) -> None:
    jars = _assay(fixtures, "maven")
    log4j = jars[("log4j-core", "2.14.1", "/opt/javaapp/lib/log4j-core-2.14.1.jar")]
    assert log4j["purl"] == "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"
    assert log4j["found_by"] == "java-archive"
    assert len(log4j["metadata"]["sha1"]) == 40
    names = {name for name, _, path in jars if path.startswith("/usr/share/java/")}
    assert {"log4j-api", "log4j-core", "jackson-databind", "jackson-core", "jackson-annotations"} <= names
    assert _report(fixtures)["unknowns"] == []


def test_java_archives_equal_syft(fixtures: Path) -> None:
    jars = _assay(fixtures, "maven")
    peer = _peer(fixtures, "java-archive")
    assert len(peer) > 40
    assert set(jars) == peer
    purls = {(p.name, p.version, p.paths[0]): p.purl for p in _syft(fixtures) if p.type == "java-archive"}
    assert {k: v["purl"] for k, v in jars.items()} == purls


def test_go_binary_modules_and_stdlib(fixtures: Path) -> None:
    found = _assay(fixtures, "golang")
    app = "/opt/goapp/fixture-goapp"
    assert {(n, v) for n, v, path in found if path == app} == {
        ("example.com/fixture-goapp", "(devel)"),
        ("golang.org/x/text", "v0.3.0"),
        ("stdlib", "go1.19.8"),
    }
    assert found[("golang.org/x/text", "v0.3.0", app)]["purl"] == "pkg:golang/golang.org/x/text@v0.3.0"
    assert found[("stdlib", "go1.19.8", app)]["purl"] == "pkg:golang/stdlib@1.19.8"


def test_go_modules_equal_syft_but_for_the_gopath_build(fixtures: Path) -> None:
    assert set(_assay(fixtures, "golang")) == _peer(fixtures, "go-module") - SYFT_ONLY
    assert _peer(fixtures, "go-module") >= SYFT_ONLY
