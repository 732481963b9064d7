"""Malware, malicious URLs/IPs and licenses on the planted content image, through the real CLI.

``assay feeds update`` loads a URL feed and a CIDR feed the test writes; a YARA rule directory
is given by setting; EICAR needs no configuration. Each planted MaliciousFile, MaliciousURL,
MaliciousIP and Package item must be reported once, with its path and layer, and nothing else may
be reported as malicious.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.harness.requirements import fixtures_dir, require

pytestmark = pytest.mark.realworld

CATEGORIES = ("MaliciousFile", "MaliciousURL", "MaliciousIP", "Package")
RULES = {  # the manifest's rule names -> the analyzers' rule ids
    "eicar": "eicar-test-file",
    "yara": "yara:fixture:assay_fixture_marker",
    "url-feed": "feed-url",
    "ip-feed": "feed-ip",
}
YARA = 'rule assay_fixture_marker { strings: $m = "ASSAY-YARA-FIXTURE-MARKER" condition: $m }\n'


def _run(data_dir: Path, *args: str, **env_extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update(ASSAY_DATA_DIR=str(data_dir), ASSAY_DB_PATH=str(data_dir / "no-db.sqlite"), **env_extra)
    return subprocess.run(
        [sys.executable, "-m", "services.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def planted() -> dict[str, Any]:
    path = fixtures_dir() / "content" / "manifest.json"
    require(path.is_file(), f"no {path}: run tests/fixtures/build-content-image.sh")
    manifest: dict[str, Any] = json.loads(path.read_text())
    manifest["target"] = f"oci:{path.parent / 'oci' / 'planted'}"
    return manifest


@pytest.fixture(scope="module")
def report(planted: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data = tmp_path_factory.mktemp("malicious-data")
    value = {i["rule"]: i.get("value", "") for i in planted["items"]}
    (data / "urls.txt").write_text(f"# fixture URL feed\n{value['url-feed']}\n")
    (data / "drop.txt").write_text("; fixture CIDR feed\n203.0.113.0/24 ; SBL-fixture\n")
    rules = data / "yara"
    rules.mkdir()
    (rules / "fixture.yar").write_text(YARA)
    loaded = _run(
        data, "feeds", "update", "--source", str(data / "urls.txt"), "--source", str(data / "drop.txt")
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "urls.txt: 1 URLs" in loaded.stdout
    scanned = _run(
        data, "scan", planted["target"], "--format", "json", ASSAY_MALWARE_YARA_RULES_DIR=str(rules)
    )
    assert scanned.returncode == 0, scanned.stderr
    result: dict[str, Any] = json.loads(scanned.stdout)
    return result


def test_every_malicious_and_license_item_is_reported_once_with_path_and_layer(
    planted: dict[str, Any], report: dict[str, Any]
) -> None:
    items = [i for i in planted["items"] if i["category"] in CATEGORIES]
    assert {i["category"] for i in items} == set(CATEGORIES)
    detections = [d for d in report["detections"] if d["category"] in CATEGORIES]
    for item in items:
        rule = RULES.get(item["rule"], item["rule"])
        same = [
            d
            for d in detections
            if (d["category"], d["rule_id"], d.get("path")) == (item["category"], rule, item["path"])
        ]
        assert len(same) == 1, (item, same)
        assert same[0].get("layer_digest") == item["layer_digest"], item
    feeds = {d["source"] for d in detections if d["category"] in ("MaliciousURL", "MaliciousIP")}
    assert feeds == {"urls.txt", "drop.txt"}
    # nothing else is malicious: the Debian base has no listed URL or malware
    malicious = [d for d in detections if d["category"] != "Package"]
    assert len(malicious) == len([i for i in items if i["category"] != "Package"])
    # Debian's own (GPL-family) packages: their licenses are informational by default, never findings
    debian = [
        d
        for d in detections
        if d["category"] == "Package" and d.get("package_purl", "").startswith("pkg:deb/")
    ]
    assert debian == []
