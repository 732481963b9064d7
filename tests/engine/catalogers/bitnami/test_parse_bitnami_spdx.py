"""Bitnami's per-component SPDX document, in the shape of bitnami/redis 7.2 images."""

from pathlib import Path

from services.engine.catalogers.bitnami.parse_bitnami_spdx import bitnami_to_package, parse_bitnami_spdx

HERE = Path(__file__).parent / "testdata"
REL = "opt/bitnami/redis/.spdx-redis.spdx"


def test_packages_with_a_purl() -> None:
    result = parse_bitnami_spdx(REL, (HERE / REL).read_bytes())
    assert result.problems == []
    records = [bitnami_to_package(p, None, "/" + REL) for p in result.packages]
    assert [(r.type, r.name, r.version, r.purl, r.licenses) for r in records] == [
        (
            "bitnami",
            "redis",
            "7.2.4",
            "pkg:bitnami/redis@7.2.4?arch=amd64&distro=debian-12",
            ["BSD-3-Clause"],
        ),
        ("generic", "jemalloc", "5.3.0", "pkg:generic/jemalloc@5.3.0", ["BSD-2-Clause"]),
    ]  # redis-docs has no purl


def test_not_spdx_and_bad_purls_are_problems() -> None:
    assert parse_bitnami_spdx("x.spdx", b'{"packages": []}').problems == [
        "x.spdx: not an SPDX JSON document with packages"
    ]
    doc = (
        b'{"spdxVersion": "SPDX-2.3", "packages": [{"name": "a", "externalRefs": '
        b'[{"referenceType": "purl", "referenceLocator": "not-a-purl"}]}, 3]}'
    )
    result = parse_bitnami_spdx("x.spdx", doc)
    assert result.packages == []
    assert result.problems[0].startswith("x.spdx: package 'a': bad purl 'not-a-purl'")
    assert result.problems[1] == "x.spdx: SPDX package is not an object"
