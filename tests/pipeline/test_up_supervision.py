"""`assay up` keeps its children running like Kubernetes would, and keeps its secrets.

SIGKILL the engine child mid-run: `assay up` says why it exited, starts it again after a back-off
and still finishes `--until-idle` with every image settled and one summary line per image. The
settings file handed to the children (credentials inside) is 0600 while they run and gone after;
no message shows the database password (issue 18, defect 6).
"""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from services.common.store.postgres import Store
from services.policy.store import stored_findings
from tests.harness.registry import RegistryServer
from tests.pipeline.harness import pipeline_env
from tests.pipeline.test_pipeline import _stored

pytestmark = [pytest.mark.pipeline, pytest.mark.realworld, pytest.mark.timeout(600)]

PASSWORD = "hunter2-not-shown"


def _with_password(dsn: str) -> tuple[str, str]:
    """The DSN with a password, and that password: the server's own (the embedded PostgreSQL has
    one), else one added (a server that trusts local connections accepts any)."""
    parts = urlsplit(dsn)
    if parts.password:
        return dsn, parts.password
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user or 'postgres'}:{PASSWORD}@{host}")), PASSWORD


def _children(parent: int) -> dict[int, str]:
    """pid -> command line of ``parent``'s child processes (from /proc)."""
    out: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(fields[1]) == parent:
            out[int(entry.name)] = cmdline
    return out


def _wait_for(path: Path, text: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text(errors="replace"):
        assert proc.poll() is None, path.read_text(errors="replace")[-4000:]
        assert time.monotonic() < deadline, f"no {text!r} in:\n" + path.read_text(errors="replace")[-4000:]
        time.sleep(0.1)


async def _check_summary(dsn: str, text: str) -> None:
    images, _ = await _stored(dsn)
    assert sorted(i["status"] for i in images) == ["failed", "scanned", "scanned", "scanned"]
    store = await Store.connect(dsn)
    try:
        for image in images:
            count = len([f for f in await stored_findings(store.pool, image["digest"]) if not f.suppression])
            head = f"assay up: {image['status']} {image['image_ref']} ["
            (line,) = [line for line in text.splitlines() if line.startswith(head)]
            assert f"]: {count} findings" in line
    finally:
        await store.close()


def test_up_restarts_a_killed_child_and_summarises_each_image(
    registry: RegistryServer, pg_dsn: str, broker: str, vuln_db: Path, tmp_path: Path
) -> None:
    dsn, password = _with_password(pg_dsn)
    pipe = pipeline_env(pg_dsn=dsn, bootstrap=broker, registry_host=registry.host, db=vuln_db, work=tmp_path)
    log = tmp_path / "up.log"
    settings_file = Path(pipe.env["ASSAY_DATA_DIR"]) / "up" / "settings.json"
    with log.open("wb") as out:
        up = subprocess.Popen(
            [sys.executable, "-m", "services.cli.main", "up", "--until-idle", "--idle-timeout", "300"],
            env=pipe.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for(log, f"engine: scanning {registry.host}/fixture/debian@", up, 180)  # a scan of seconds
        assert stat.S_IMODE(settings_file.stat().st_mode) == 0o600
        (engine,) = [pid for pid, cmd in _children(up.pid).items() if cmd.endswith("service engine ")]
        os.kill(engine, signal.SIGKILL)
        _wait_for(log, "assay up: engine exited (killed by SIGKILL); restart 1 in ", up, 30)
        code = up.wait(450)
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    text = log.read_text(errors="replace")
    assert code == 0, text[-4000:]
    assert password not in text
    assert ":***@" in text  # the DSN line is there, redacted
    assert not settings_file.exists()
    asyncio.run(_check_summary(pg_dsn, text))
