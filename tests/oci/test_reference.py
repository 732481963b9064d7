"""Reference parsing against the cases of Docker's own tests (distribution/reference normalize_test.go)."""

from __future__ import annotations

import pytest

from services.common.errors import ReferenceError_
from services.oci.reference import Reference, parse_reference

D = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"
HEX64 = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("debian", "docker.io", "library/debian", "latest", ""),
        ("library/debian", "docker.io", "library/debian", "latest", ""),
        ("docker/docker", "docker.io", "docker/docker", "latest", ""),
        ("docker.io/debian", "docker.io", "library/debian", "latest", ""),
        ("docker.io/library/foo/bar", "docker.io", "library/foo/bar", "latest", ""),
        ("index.docker.io/debian", "docker.io", "library/debian", "latest", ""),
        ("index.docker.io/docker/docker", "docker.io", "docker/docker", "latest", ""),
        ("127.0.0.1:5000/debian", "127.0.0.1:5000", "debian", "latest", ""),
        ("127.0.0.1:5000/library/debian:11", "127.0.0.1:5000", "library/debian", "11", ""),
        ("192.168.0.1", "docker.io", "library/192.168.0.1", "latest", ""),
        ("192.168.0.1:80", "docker.io", "library/192.168.0.1", "80", ""),
        ("192.168.0.1:8/debian", "192.168.0.1:8", "debian", "latest", ""),
        ("localhost/debian", "localhost", "debian", "latest", ""),
        ("localhost:5000/a/b:v1", "localhost:5000", "a/b", "v1", ""),
        ("test_com/foo", "docker.io", "test_com/foo", "latest", ""),
        ("test-com:8080/foo", "test-com:8080", "foo", "latest", ""),
        ("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo", "latest", ""),
        ("[fc00::1]:5000/docker", "[fc00::1]:5000", "docker", "latest", ""),
        ("[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000", "library/debian",
         "latest", ""),
        ("Foo/bar", "Foo", "bar", "latest", ""),
        ("DOCKER/docker", "DOCKER", "docker", "latest", ""),
        ("lowercase:Uppercase", "docker.io", "library/lowercase", "Uppercase", ""),
        ("docker.io/" + HEX64, "docker.io", "library/" + HEX64, "latest", ""),
        ("thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", "docker.io",
         "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", "latest", ""),
        ("docker---rules/docker", "docker.io", "docker---rules/docker", "latest", ""),
        ("dock__er/docker", "docker.io", "dock__er/docker", "latest", ""),
        (f"redis@{D}", "docker.io", "library/redis", "", D),
        (f"busybox:latest@{D}", "docker.io", "library/busybox", "latest", D),
        (f"test:5000/repo:tag@{D}", "test:5000", "repo", "tag", D),
    ],
)  # fmt: skip
def test_valid_references_normalise_like_docker(
    text: str, registry: str, repository: str, tag: str, digest: str
) -> None:
    assert parse_reference(text) == Reference(registry, repository, tag, digest)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "at least one component"),
        (HEX64, "64-byte hexadecimal"),
        ("docker/Docker", "must be lowercase"),
        ("docker.io/docker/Docker", "must be lowercase"),
        ("test:5000/Uppercase/lowercase:tag", "must be lowercase"),
        ("https://github.com/docker/docker", "invalid reference format"),
        ("-docker", "invalid reference format"),
        ("-docker/docker", "invalid reference format"),
        ("docker-/docker", "invalid reference format"),
        ("-docker.io/docker/docker", "invalid reference format"),
        ("docker///docker", "invalid reference format"),
        ("____/____", "invalid reference format"),
        ("dock..er/docker", "invalid reference format"),
        ("dock_.er/docker", "invalid reference format"),
        ("docker/", "invalid reference format"),
        ("[fc00::1]", "invalid reference format"),
        ("[fc00::1]:5000", "invalid reference format"),
        ("fc00::1:5000/debian", "invalid reference format"),
        ("[fe80::1%eth0]:5000/debian", "invalid reference format"),
        ("[2001:db8:3:4::192.0.2.33]:5000/debian", "invalid reference format"),
        (":justtag", "invalid reference format"),
        (f"@{D}", "invalid reference format"),
        ("repo@sha256:" + "f" * 63, "invalid checksum digest"),
        ("repo@sha256:" + "F" * 64, "invalid checksum digest"),
        ("repo@md5:" + "f" * 64, "unsupported digest algorithm"),
        ("repo:-tag", "invalid reference format"),
        ("a/" * 128 + "a", "more than 255 characters"),
    ],
)
def test_invalid_references_fail_with_dockers_reason(text: str, reason: str) -> None:
    with pytest.raises(ReferenceError_, match=reason):
        parse_reference(text)


def test_api_host_str_and_manifest_ref() -> None:
    hub = parse_reference("alpine:3.20")
    assert hub.api_host == "registry-1.docker.io"
    assert str(hub) == "docker.io/library/alpine:3.20"
    assert hub.manifest_ref == "3.20"
    local = parse_reference(f"127.0.0.1:5000/app:1@{D}")
    assert local.api_host == "127.0.0.1:5000"
    assert str(local) == f"127.0.0.1:5000/app:1@{D}"
    assert local.manifest_ref == D  # the digest wins over the tag
    assert parse_reference(str(local)) == local
