"""Binary classifiers: packages named by a binary's file name and the version string in its bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.engine.analyze import analyze
from services.engine.catalogers.binary.parse_classified_binary import (
    CATALOGER,
    binary_to_package,
    parse_classified_binary,
    parse_classified_binary_stream,
)
from services.engine.catalogers.registry import select
from services.engine.ownership import OwnershipIndex
from tests.engine.memimage import Entry, Layer, MemoryImage

HERE = Path(__file__).parent / "testdata"


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ("usr/local/bin/python3.12", [("python", "3.12.1", "pkg:generic/python@3.12.1")]),
        ("usr/sbin/nginx", [("nginx", "1.25.3", "pkg:generic/nginx@1.25.3")]),
        ("usr/local/bin/redis-server", [("redis", "7.2.4", "pkg:generic/redis@7.2.4")]),
        ("bin/busybox", [("busybox", "1.36.1", "pkg:generic/busybox@1.36.1")]),
        ("usr/local/bin/node", [("node", "20.11.0", "pkg:generic/node@20.11.0")]),
        ("usr/bin/bash", [("bash", "5.2.15", "pkg:generic/bash@5.2.15")]),
        ("opt/lampp/bin/mysql", [("mariadb", "10.11.6", "pkg:generic/mariadb@10.11.6")]),
        ("usr/local/bin/python3", []),  # the version comes from the name: python3 has none to look for
    ],
)
def test_classifier_fixtures(rel: str, expected: list[tuple[str, str, str]]) -> None:
    assert any(CATALOGER.request.patterns)
    result = parse_classified_binary(rel, (HERE / rel).read_bytes())
    assert result.problems == []
    got = [(p.name, p.version, binary_to_package(p, None, "/" + rel).purl) for p in result.packages]
    assert got == expected


def test_a_version_across_a_window_edge_is_found(tmp_path: Path) -> None:
    from services.engine.catalogers.binary import parse_classified_binary as module

    blob = b"\x00" * (module._WINDOW - 10) + b"\x00nginx version: nginx/1.27.0\x00" + b"\x00" * 100
    (tmp_path / "nginx").write_bytes(blob)
    with (tmp_path / "nginx").open("rb") as f:
        [raw] = parse_classified_binary_stream("usr/sbin/nginx", f).packages
    assert raw.version == "1.27.0"


def test_other_names_and_purls_with_namespaces() -> None:
    assert parse_classified_binary("usr/bin/nginx-debug", b"nginx version: nginx/1.0.0").packages == []
    [helm] = parse_classified_binary("usr/local/bin/helm", b"\x00v3.14.2\x00").packages
    assert binary_to_package(helm, None, "/usr/local/bin/helm").purl == "pkg:golang/helm.sh/helm@3.14.2"


def test_merged_usr_twins_share_an_owner() -> None:
    index = OwnershipIndex()
    index.add(["bin/bash", "usr/sbin/nginx"], "pkg:deb/debian/x@1")
    assert index.owner_across_usr_merge(["/usr/bin/bash"]) == "pkg:deb/debian/x@1"
    assert index.owner_across_usr_merge(["/sbin/nginx"]) == "pkg:deb/debian/x@1"
    assert index.owner_across_usr_merge(["/usr/local/bin/bash", "/opt/bin/bash"]) is None
    assert index.owner_of_locations(["/usr/bin/bash"]) is None  # the plain lookup is unchanged


async def test_a_binary_an_os_package_installed_is_left_out() -> None:
    status = b"Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n\n"
    bash = (HERE / "usr/bin/bash").read_bytes()
    image = MemoryImage(
        [
            Layer(
                [
                    Entry("etc/os-release", b'ID=debian\nVERSION_ID="12"\n'),
                    Entry("var/lib/dpkg/status", status),
                    Entry(
                        "var/lib/dpkg/info/bash.list", b"/.\n/bin\n/bin/bash\n"
                    ),  # merged /usr: listed as /bin
                    Entry("usr/bin/bash", bash),
                    Entry("usr/local/bin/bash", bash),
                ]
            )
        ]
    )
    analysis = await analyze(image, select())
    found = sorted((p.type, p.name, p.locations[0]) for p in analysis.packages)
    assert found == [("deb", "bash", "/var/lib/dpkg/status"), ("generic", "bash", "/usr/local/bin/bash")]


@pytest.mark.parametrize(
    ("path", "content", "expected"),
    [
        ("usr/local/bin/elixir", b"#!/bin/sh\nELIXIR_VERSION=1.16.2\n", ("elixir", "1.16.2")),
        (
            "usr/lib/elixir/lib/elixir/ebin/elixir.app",
            b'{application,elixir,[{vsn,"1.17.0-rc.1"}]}.',
            ("elixir", "1.17.0-rc.1"),
        ),
        ("usr/bin/mongod", b"\x00\x007.0.28\x00\x00heap_size\x00", ("mongodb", "7.0.28")),
        ("opt/app/openssl", b"\x00OpenSSL 1.1.1 (compatible; AWS-LC 1.69.0)\x00", ("aws-lc", "1.69.0")),
        ("usr/bin/openssl", b"\x00OpenSSL 3.0.13 30 Jan 2024\x00", ("openssl", "3.0.13")),
    ],
)
def test_shapes_of_other_builds(path: str, content: bytes, expected: tuple[str, str]) -> None:
    assert [(p.name, p.version) for p in parse_classified_binary(path, content).packages] == [expected]
