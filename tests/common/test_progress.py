"""Progress as a Trivy user expects it: live bars (rich) for a person at a terminal, nothing but
lasting lines elsewhere or with NO_COLOR; ``assay scan`` under a real pseudo-terminal shows a bar
per layer, and the same scan with NO_COLOR or into a pipe shows none."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from services.common.progress import Progress, wants_progress
from services.engine.image.progress import ProgressImage
from services.engine.image.targets import parse_target
from tests.harness.requirements import REPO


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_wanted_only_at_a_terminal_without_no_color() -> None:
    assert wants_progress(_Tty(), {})
    assert not wants_progress(_Tty(), {"NO_COLOR": ""})  # any value, even empty (no-color.org)
    assert not wants_progress(io.StringIO(), {})


def test_quiet_progress_writes_lasting_lines_only() -> None:
    out = io.StringIO()
    with Progress(out, live=False) as progress:
        progress.status("Debian: 1.0 MB of 2.0 MB downloaded")
        task = progress.task("layer 1/1", 100)
        task.advance(50)
        task.done()
        progress.line("Debian: downloaded 2000000 bytes (2.0 MB)")
    assert out.getvalue() == "Debian: downloaded 2000000 bytes (2.0 MB)\n"


def test_live_progress_draws_status_and_bars_and_keeps_the_lines() -> None:
    out = _Tty()
    with Progress(out, live=True) as progress:
        progress.status("Debian: 1.0 MB of 2.0 MB downloaded")
        task = progress.task("layer 1/2 abcdef", 2_000_000)
        task.advance(1_000_000)
        progress.line("Debian: 1234 advisories")
        task.done()
    text = out.getvalue()
    assert "Debian: 1234 advisories" in text
    assert "\x1b[" in text  # drawn with terminal controls, redrawn in place
    assert "layer 1/2 abcdef" in text or "Debian: 1.0 MB of 2.0 MB downloaded" in text


async def test_a_progress_image_streams_the_same_bytes_and_shows_each_layer(fixtures: Path) -> None:
    image = await parse_target(f"oci:{fixtures}/oci/alpine").open()
    out = _Tty()
    plain: list[int] = []
    async with image:
        for layer in image.info.layers:
            plain.append(sum([len(c) async for c in image.blob(layer)]))
        with Progress(out, live=True) as progress:
            shown = ProgressImage(image, progress)
            counted = [sum([len(c) async for c in shown.blob(layer)]) for layer in shown.info.layers]
    assert counted == plain == [layer.size for layer in image.info.layers]
    assert f"layer 1/{len(plain)}" in out.getvalue()


def _scan_under_a_terminal(fixtures: Path, tmp_path: Path, env: dict[str, str]) -> str:
    """``assay scan`` with stderr on a pseudo-terminal (stdout to a file): what the terminal got."""
    leader, follower = pty.openpty()
    command = [sys.executable, "-m", "services.cli.main", "--data-dir", str(tmp_path), "scan"]
    command += ["--scanners", "vuln", "--format", "json", f"oci:{fixtures}/oci/alpine"]
    with open(tmp_path / "report.json", "wb") as report:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=report, stderr=follower)
    os.close(follower)
    got = bytearray()
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        got += chunk
    os.close(leader)
    assert proc.wait(timeout=300) == 0, got.decode(errors="replace")
    return got.decode(errors="replace")


@pytest.mark.parametrize("no_color", [False, True])
def test_assay_scan_shows_layer_bars_at_a_terminal_unless_no_color(
    fixtures: Path, tmp_path: Path, no_color: bool
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["ASSAY_SCAN_ISOLATION"] = "true"  # the bars come from the isolated child, on its inherited stderr
    if no_color:
        env["NO_COLOR"] = "1"
    shown = _scan_under_a_terminal(fixtures, tmp_path, env)
    assert ("layer 1/" in shown) is not no_color
