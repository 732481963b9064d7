"""``assay service harbor`` as a process: it serves the adapter's metadata and stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.harness.registry import free_port


def test_the_service_serves_metadata_behind_its_key_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "ASSAY_HARBOR_LISTEN": f"127.0.0.1:{port}",
        "ASSAY_HARBOR_API_KEY": "k-1",
        "ASSAY_DATA_DIR": str(tmp_path),
        "ASSAY_DB_PATH": str(tmp_path / "none.sqlite"),
    }
    env.pop("ASSAY_CONFIG", None)
    log = tmp_path / "harbor.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.cli.main", "service", "harbor"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}/api/v1/metadata"
        request = urllib.request.Request(url, headers={"Authorization": "Bearer k-1"})
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5) as resp:
                    body = json.loads(resp.read())
                    break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the adapter did not answer"
                time.sleep(0.2)
        assert body["scanner"]["name"] == "Assay"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=5)
        assert refused.value.code == 401
        refused.value.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
