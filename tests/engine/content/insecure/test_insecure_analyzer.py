"""The InsecureCode analyzer over real tar layers: ownership, temp directories, replaced files."""

from __future__ import annotations

from services.engine.analyze import analyze
from services.engine.catalogers.registry import select
from services.engine.content.insecure.analyzer import InsecureCodeAnalyzer
from tests.engine.memimage import Entry, Layer, MemoryImage

_OS_RELEASE = b'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'
_STATUS = b"Package: util-linux\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.38.1-5\n\n"
_LIST = b"/.\n/bin\n/bin/su\n/usr/bin/newgrp\n"  # usrmerge: dpkg says /bin/su, the tar has usr/bin/su
_GOOD_CONFIG = {"config": {"User": "app", "Healthcheck": {"Test": ["CMD", "true"]}}}


def _found(result: object) -> set[tuple[str, str]]:
    return {(d.rule_id, d.path) for d in result.detections}  # type: ignore[attr-defined]


async def test_setuid_files_owned_by_dpkg_are_expected_and_planted_ones_are_reported() -> None:
    image = MemoryImage(
        [
            Layer(
                [
                    Entry("etc/os-release", _OS_RELEASE),
                    Entry("var/lib/dpkg/status", _STATUS),
                    Entry("var/lib/dpkg/info/util-linux.list", _LIST),
                    Entry("usr/bin/su", b"\x7fELF su", mode=0o4755),
                    Entry("usr/bin/newgrp", b"\x7fELF newgrp", mode=0o4755),
                    Entry("usr/local/bin/backdoor", b"\x7fELF planted", mode=0o4755),
                    Entry("usr/local/bin/grp", b"#!/bin/sh\n", mode=0o2755),
                ]
            )
        ]
    )
    image.config = _GOOD_CONFIG
    result = await analyze(image, select(), [InsecureCodeAnalyzer()])
    assert _found(result) == {
        ("IC005-setuid", "/usr/local/bin/backdoor"),
        ("IC006-setgid", "/usr/local/bin/grp"),
    }
    backdoor = next(d for d in result.detections if d.rule_id == "IC005-setuid")
    assert backdoor.evidence == "mode 4755; not installed by any OS package"
    assert backdoor.layer_digest == image.info.layers[0].digest
    assert backdoor.title.endswith("(CIS Docker 4.8)")


async def test_without_os_file_lists_setuid_files_are_kept_with_unknown_ownership() -> None:
    image = MemoryImage([Layer([Entry("usr/bin/su", b"\x7fELF", mode=0o4755)])])
    image.config = _GOOD_CONFIG
    result = await analyze(image, [], [InsecureCodeAnalyzer()])
    [d] = result.detections
    assert d.evidence.endswith("ownership unknown (no OS file lists)")


async def test_world_writable_outside_tmp_and_only_the_final_filesystem() -> None:
    image = MemoryImage(
        [
            Layer(
                [
                    Entry("tmp", None, is_dir=True, mode=0o1777),
                    Entry("tmp/scratch", b"x", mode=0o666),
                    Entry("srv/drop", None, is_dir=True, mode=0o777),
                    Entry("srv/shared.conf", b"x", mode=0o666),
                    Entry("srv/fixed", None, is_dir=True, mode=0o777),
                    Entry("usr/bin/was-setuid", b"x", mode=0o4755),
                ]
            ),
            Layer(
                [
                    Entry("srv/fixed", None, is_dir=True, mode=0o755),  # chmod in a later layer
                    Entry("usr/bin/was-setuid", b"x", mode=0o755),
                ]
            ),
        ]
    )
    image.config = _GOOD_CONFIG
    result = await analyze(image, [], [InsecureCodeAnalyzer()])
    assert _found(result) == {
        ("IC008-world-writable-dir", "/srv/drop"),
        ("IC007-world-writable-file", "/srv/shared.conf"),
    }


async def test_content_checks_find_shadow_sshd_git_and_authorized_keys() -> None:
    image = MemoryImage(
        [
            Layer(
                [
                    Entry("etc/shadow", b"root:$y$j9T$fixture$fixturehash:19700:0:99999:7:::\n", mode=0o640),
                    Entry("etc/ssh/sshd_config", b"PermitRootLogin yes\n"),
                    Entry("srv/app/.git/HEAD", b"ref: refs/heads/main\n"),
                    Entry("root/.ssh/authorized_keys", b"ssh-ed25519 AAAAC3Nza fixture\n"),
                ]
            )
        ]
    )
    result = await analyze(image, [], [InsecureCodeAnalyzer()])
    assert _found(result) == {
        ("IC010-shadow-password", "/etc/shadow"),
        ("IC013-permit-root-login", "/etc/ssh/sshd_config"),
        ("IC012-git-directory", "/srv/app/.git/HEAD"),
        ("IC009-authorized-keys", "/root/.ssh/authorized_keys"),
    }
    shadow = next(d for d in result.detections if d.rule_id == "IC010-shadow-password")
    assert "fixturehash" not in shadow.evidence
    assert shadow.evidence == "account root: yescrypt"
