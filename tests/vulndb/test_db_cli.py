"""``assay db update|status`` end to end (progress: tests/common/test_progress.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.cli.db import kev_location, parse_ecosystems
from services.cli.main import main
from services.vulndb.kev import DEFAULT_URL
from tests.harness.requirements import require, shared_dir

OSV = Path(__file__).parent / "testdata" / "osv"
EPSS = Path(__file__).parent / "testdata" / "epss" / "epss_scores-sample.csv"


def test_option_parsing() -> None:
    assert parse_ecosystems(["Debian,Red Hat", " npm "]) == ["Debian", "Red Hat", "npm"]
    assert parse_ecosystems(None) is None
    assert kev_location("https://osv.example", None) == DEFAULT_URL
    assert kev_location("/data/osv", None) is None  # an offline build stays offline
    assert kev_location("https://osv.example", "none") is None
    assert kev_location("/data/osv", "kev.json") == "kev.json"


def test_update_then_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "vuln.db"
    base = ["--data-dir", str(tmp_path), "--db", str(db), "db"]
    code = main([*base, "update", "--source", str(OSV), "--ecosystems", "Debian,Alpine", "--epss", str(EPSS)])
    out, err = capsys.readouterr()
    assert code == 0
    stats = json.loads(out)
    assert (stats["advisories"], stats["epss"], stats["changed"]) == (3, 5, True)
    assert "done: 3 advisories" in err

    assert main([*base, "update", "--source", str(OSV), "--ecosystems", "Debian,Alpine"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["changed"] is False
    assert "unchanged" in err

    assert main([*base, "status"]) == 0
    out, _ = capsys.readouterr()
    assert "schema version: 2" in out
    assert f"{OSV}  [file:" in out
    assert "EPSS scores:    5" in out

    assert main([*base, "status", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {s["kind"] for s in doc["sources"]} == {"json-dir", "epss"}
    assert doc["meta"]["advisories"] == "3"


def test_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--data-dir", str(tmp_path), "--db", str(tmp_path / "vuln.db"), "db"]
    assert main([*base, "status"]) == 2
    assert "no advisory database" in capsys.readouterr().err
    assert main([*base, "update", "--source", str(tmp_path / "nope")]) == 2
    assert "no advisory source" in capsys.readouterr().err


def test_update_with_cvss_records_then_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cvelist = shared_dir() / "cvelist" / "cves"
    require(cvelist.is_dir(), f"{cvelist} (real CVE JSON 5 records) is missing")
    db = tmp_path / "vuln.db"
    base = ["--data-dir", str(tmp_path), "--db", str(db), "db"]
    assert main([*base, "update", "--source", str(OSV), "--cvss", str(cvelist)]) == 0
    out, err = capsys.readouterr()
    cvss = [s for s in json.loads(out)["sources"] if s["location"] == str(cvelist)]
    assert cvss
    assert cvss[0]["status"] == "ok"
    assert cvss[0]["records"] > 0
    assert f"CVSS: {cvss[0]['records']} entries loaded from {cvelist}" in err
    assert main([*base, "status"]) == 0
    status = capsys.readouterr().out
    assert f"CVE ratings:    {cvss[0]['records']}" in status
    assert f"{cvss[0]['records']} entries" in status  # the feed's line among the sources
