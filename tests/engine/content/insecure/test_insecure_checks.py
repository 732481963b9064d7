"""InsecureCode checks as pure functions, and the check catalog in checks.toml."""

from __future__ import annotations

import pytest

from services.engine.content.insecure import checks
from services.engine.content.insecure.catalog import load_catalog

SHADOW = b"""root:$6$fixture$Qw3.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijklmnopqrstu:19700:0:99999:7:::
daemon:*:19700:0:99999:7:::
nobody:!:19700::::::
locked:!$6$salt$hash:19700::::::
guest::19700::::::
"""


def test_every_check_in_the_catalog_has_logic_and_every_logic_id_is_in_the_catalog() -> None:
    catalog, digest = load_catalog()
    ids = [c.id for c in catalog.check]
    assert sorted(ids) == sorted(checks.ALL_CHECKS)
    assert len(ids) == len(set(ids))
    assert len(digest) == 16
    for check in catalog.check:
        assert check.severity in ("CRITICAL", "HIGH", "MEDIUM", "LOW"), check.id
        assert check.rationale.endswith("."), check.id
        assert not check.cis or check.cis.split(".")[0] in ("4", "5"), check.id


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"config": {}}, {checks.ROOT_USER, checks.NO_HEALTHCHECK}),
        ({"config": {"User": "0:0"}}, {checks.ROOT_USER, checks.NO_HEALTHCHECK}),
        (
            {
                "config": {
                    "User": "app",
                    "Healthcheck": {"Test": ["CMD", "true"]},
                    "ExposedPorts": {"22/tcp": {}},
                }
            },
            {checks.SSH_PORT},
        ),
        ({"config": {"User": "1000", "Healthcheck": {"Test": ["NONE"]}}}, {checks.NO_HEALTHCHECK}),
        (
            {
                "config": {
                    "User": "app",
                    "Healthcheck": {"Test": ["CMD", "true"]},
                    "ExposedPorts": {"8022/tcp": {}},
                }
            },
            set(),
        ),
        ({}, set()),  # a dir: target has no config at all
    ],
)
def test_config_checks(config: dict[str, object], expected: set[str]) -> None:
    assert {cid for cid, _ in checks.config_checks(config)} == expected


def test_remote_add_in_history_shows_only_scheme_and_host() -> None:
    config = {
        "config": {"User": "app", "Healthcheck": {"Test": ["CMD", "true"]}},
        "history": [
            {"created_by": "/bin/sh -c #(nop) ADD https://u:t@dl.example.invalid/a.tgz?sig=x /opt/"},
            {"created_by": "ADD --chown=1:1 http://h.invalid/x /x # buildkit"},
            {"created_by": "COPY ./local /opt/"},
            {"created_by": "/bin/sh -c #(nop) ADD file:abc in /"},
        ],
    }
    found = list(checks.config_checks(config))
    assert found == [
        (checks.REMOTE_ADD, "history 1: ADD https://dl.example.invalid/…"),
        (checks.REMOTE_ADD, "history 2: ADD http://h.invalid/…"),
    ]


@pytest.mark.parametrize(
    ("mode", "is_dir", "in_temp", "expected"),
    [
        (0o4755, False, False, {checks.SETUID}),
        (0o2755, False, False, {checks.SETGID}),
        (0o6755, False, False, {checks.SETUID, checks.SETGID}),
        (0o0755, False, False, set()),
        (0o0666, False, False, {checks.WORLD_WRITABLE_FILE}),
        (0o0777, True, False, {checks.WORLD_WRITABLE_DIR}),
        (0o1777, True, True, set()),
        (0o0666, False, True, set()),
        (0o2775, True, False, set()),  # setgid directories are normal (shared group dirs)
    ],
)
def test_mode_checks(mode: int, is_dir: bool, in_temp: bool, expected: set[str]) -> None:
    found = {cid for cid, _ in checks.mode_checks("x", mode, is_dir=is_dir, in_temp_dir=in_temp)}
    assert found == expected


def test_shadow_reports_hashes_and_empty_passwords_without_the_hash() -> None:
    found = list(checks.shadow_checks(SHADOW))
    assert found == [
        (checks.SHADOW_PASSWORD, "account root: sha512crypt"),
        (checks.SHADOW_EMPTY, "account guest: empty password field"),
    ]
    assert list(checks.shadow_checks(b"root:*:1:0:99999:7:::\nbad line\n\x00\xff")) == []


def test_sshd_permit_root_login() -> None:
    assert list(checks.sshd_checks(b"Port 22\n#PermitRootLogin yes\nPermitRootLogin yes\n")) == [
        (checks.PERMIT_ROOT_LOGIN, "line 3: PermitRootLogin yes")
    ]
    assert list(checks.sshd_checks(b"#PermitRootLogin yes\nPermitRootLogin prohibit-password\n")) == []


def test_authorized_keys_counts_keys_without_showing_them() -> None:
    data = b'# ci\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixture ci@x\nfrom="10.0.0.1" ssh-rsa AAAAB3Nza x\n'
    [(cid, evidence)] = checks.authorized_keys_checks(data)
    assert (cid, evidence) == (checks.AUTHORIZED_KEYS, "2 key(s): ssh-ed25519, ssh-rsa")
    assert list(checks.authorized_keys_checks(b"# no keys\n\n")) == []


def test_git_directory_names_the_checkout() -> None:
    assert list(checks.git_checks("srv/app/.git/HEAD")) == [(checks.GIT_DIRECTORY, "repository at /srv/app")]
    assert list(checks.git_checks(".git/HEAD")) == [(checks.GIT_DIRECTORY, "repository at /")]
