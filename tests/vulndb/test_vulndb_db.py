"""VulnDB: opening, meta and per-package queries."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from services.common.errors import VulnDBError
from services.vulndb import Advisory, VulnDB


def test_missing_database_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(VulnDBError, match=r"no advisory database at .*; run `assay db update`"):
        VulnDB.open(tmp_path / "absent.sqlite")


def test_not_a_database(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(VulnDBError, match="unreadable"):
        VulnDB.open(junk)


def test_schema_version_mismatch(fixture_db_path: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite"
    old.write_bytes(fixture_db_path.read_bytes())
    with sqlite3.connect(old) as conn:
        conn.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    with pytest.raises(VulnDBError, match="schema version 0"):
        VulnDB.open(old)


def test_advisories_for_decodes_records(fixture_db: VulnDB) -> None:
    advisories = fixture_db.advisories_for("Debian:12", "curl")
    assert [a.id for a in advisories] == ["DEBIAN-CVE-2024-2398", "x_DEBCL-CVE-2024-2398"]
    debian = advisories[0]
    assert isinstance(debian, Advisory)
    assert debian.upstream == ("CVE-2024-2398",)
    assert debian.severity[0].type == "CVSS_V3"
    assert debian.references[0].url == "https://security-tracker.debian.org/tracker/CVE-2024-2398"
    (entry,) = debian.affected
    assert entry.purl == "pkg:deb/debian/curl?arch=source"
    assert entry.ranges[0].events[1].fixed == "7.88.1-10+deb12u6"
    assert "7.88.1-10+deb12u5" in entry.versions
    assert advisories[1].affected[0].database_specific is not None
    # cached: the same list object comes back
    assert fixture_db.advisories_for("Debian:12", "curl") is advisories


def test_exact_ecosystem_strings(fixture_db: VulnDB) -> None:
    assert fixture_db.advisories_for("Debian", "curl") == []
    assert fixture_db.advisories_for("Debian:11", "curl") == []
    assert fixture_db.has_ecosystem("Alpine:v3.20")
    assert not fixture_db.has_ecosystem("Alpine:v3.19")
    ghsa = fixture_db.advisories_for("npm", "lodash")
    assert [a.id for a in ghsa] == ["GHSA-35jh-r3h4-6jhm"]
    assert ghsa[0].database_specific is not None
    assert ghsa[0].database_specific["severity"] == "HIGH"


def test_meta(fixture_db: VulnDB) -> None:
    meta = fixture_db.meta()
    assert set(meta) >= {"schema_version", "built_at", "sources"}
