"""``assay tokens create|list|revoke`` against a real PostgreSQL: shown once, stored hashed, audited."""

from __future__ import annotations

import argparse
import stat
from pathlib import Path

import pytest

from services.api.auth.audit import Audit
from services.api.auth.bootstrap import local_admin_token
from services.api.auth.cli import add_tokens_command, run_tokens
from services.api.auth.tokens import Tokens, looks_like_token
from services.common.store import Store


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="assay")
    add_tokens_command(parser.add_subparsers(dest="command"))
    return parser.parse_args(["tokens", *argv])


async def test_create_list_revoke(pg_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert await run_tokens(pg_dsn, _args("create", "--role", "operator", "--expires-days", "30", "ci")) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("assay_")
    assert await run_tokens(pg_dsn, _args("create", "--role", "viewer", "ci")) == 1  # the name is taken
    assert "a live token is named 'ci' already" in capsys.readouterr().err
    assert await run_tokens(pg_dsn, _args("list")) == 0
    listed = capsys.readouterr().out
    assert listed.startswith("ci\toperator\t")
    assert "expires 20" in listed
    assert token not in listed
    store = await Store.connect(pg_dsn)
    try:
        principal = await Tokens(store.pool).verify(token)
        assert principal is not None
        assert (principal.actor, principal.role) == ("token:ci", "operator")
        assert await run_tokens(pg_dsn, _args("revoke", "ci")) == 0
        assert await Tokens(store.pool).verify(token) is None
        assert await run_tokens(pg_dsn, _args("revoke", "nobody")) == 1
        # the name of a revoked token is free again
        assert await run_tokens(pg_dsn, _args("create", "--role", "viewer", "ci")) == 0
        renewed = capsys.readouterr().out.split()[-1]  # after "revoked ci"
        assert await Tokens(store.pool).verify(token) is None  # the revoked one stays revoked
        renewed_principal = await Tokens(store.pool).verify(renewed)
        assert renewed_principal is not None
        assert renewed_principal.role == "viewer"
        entries = await Audit(store.pool).entries()
        assert [(e.action, e.target, e.source) for e in entries] == [
            ("token.create", "ci", "cli"),
            ("token.revoke", "ci", "cli"),
            ("token.create", "ci", "cli"),
        ]
        assert all(e.actor.startswith("cli:") for e in entries)
    finally:
        await store.close()


def test_a_role_outside_the_three_is_refused_by_the_parser() -> None:
    with pytest.raises(SystemExit):
        _args("create", "--role", "root", "x")


async def test_no_database_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert await run_tokens("", _args("list")) == 2
    assert "ASSAY_PG_DSN" in capsys.readouterr().err


def test_assay_up_keeps_its_admin_token_readable_by_its_user_only(tmp_path: Path) -> None:
    token, path = local_admin_token("", tmp_path)
    assert looks_like_token(token)
    assert path.read_text() == token + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again, _ = local_admin_token("", tmp_path)
    assert again != token  # a new one per run: the last run's stops working when the API registers it
    configured = "assay_0123456789ab_" + "c" * 43
    assert local_admin_token(configured, tmp_path)[0] == configured  # ASSAY_AUTH_BOOTSTRAP_TOKEN wins


async def test_create_limits_a_token_to_environments_and_ous(
    pg_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("create", "--role", "viewer", "--environments", "cluster:dev,registry:r.example", "--ous", "pay")
    assert await run_tokens(pg_dsn, _args(*argv, "team")) == 0
    out = capsys.readouterr()
    token = out.out.strip()
    assert "cluster:dev, registry:r.example, ou:pay" in out.err
    assert await run_tokens(pg_dsn, _args("list")) == 0
    assert capsys.readouterr().out.startswith("team\tviewer\tcluster:dev,registry:r.example,ou:pay\t")
    store = await Store.connect(pg_dsn)
    try:
        principal = await Tokens(store.pool).verify(token)
        assert principal is not None
        assert principal.scope.entries() == ["cluster:dev", "registry:r.example", "ou:pay"]
        [entry] = await Audit(store.pool).entries()
        assert (entry.action, entry.detail) == (
            "token.create",
            "viewer cluster:dev registry:r.example ou:pay",
        )
    finally:
        await store.close()
    assert await run_tokens(pg_dsn, _args("create", "--role", "admin", "--ous", "pay", "boss")) == 1
    assert "an admin cannot be limited" in capsys.readouterr().err
    assert await run_tokens(pg_dsn, _args("create", "--role", "viewer", "--environments", "dev", "x")) == 1
    assert "write an environment as KIND:NAME" in capsys.readouterr().err
