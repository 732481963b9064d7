"""``assay registries link|unlink|list`` against a real PostgreSQL, through the CLI entrypoint."""

from __future__ import annotations

import pytest

from services.cli.main import main


def test_cli_links_and_refuses_the_last_unlink(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ASSAY_PG_DSN", pg_dsn)
    assert main(["registries", "link", "reg.example.com", "prod"]) == 0
    assert main(["registries", "link", "reg.example.com", "edge"]) == 0
    assert main(["registries", "unlink", "reg.example.com", "prod"]) == 0
    assert main(["registries", "unlink", "reg.example.com", "edge"]) == 1
    out, err = capsys.readouterr()
    assert "linked: reg.example.com -> prod" in out
    assert "unlinked: reg.example.com -> prod" in out
    assert "last link" in err
    assert main(["registries", "list"]) == 0
    assert capsys.readouterr().out.splitlines() == ["reg.example.com\tedge"]


def test_cli_without_a_database_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ASSAY_PG_DSN", raising=False)
    monkeypatch.delenv("ASSAY_CONFIG", raising=False)
    assert main(["registries", "list"]) == 2
    assert "ASSAY_PG_DSN" in capsys.readouterr().err
