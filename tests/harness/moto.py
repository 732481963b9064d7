"""A local AWS for tests: ``moto_server`` (moto[server]) on a free loopback port.

What it serves (recipe section 7): the ECR control plane (repositories, put_image, describe_*,
get_authorization_token with ``expiresAt`` 2015-01-01 and password ``<account>-auth-token``),
ECS (clusters, task definitions, run_task on FARGATE or registered EC2 instances; containers
carry no ``imageDigest``), EC2 (VPCs, subnets, instances for ECS) and S3. It does NOT serve the
ECR data plane (no ``/v2/``; ``put_image`` digests are not content digests): tests pair it with
``tests.harness.registry`` as the data plane, reached through a registry host override.

Plain context managers (no pytest fixtures), like the other harness modules.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from services.common.config import AwsConfig
from tests.harness.process import stop_process
from tests.harness.registry import free_port
from tests.harness.requirements import require

__all__ = ["ACCOUNT", "REGION", "MotoServer", "ecr_password", "moto_server"]

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"


def ecr_password(account: str = ACCOUNT) -> str:
    """The password moto's ``get_authorization_token`` hands out for an account (user ``AWS``)."""
    return f"{account}-auth-token"


@dataclass(frozen=True)
class MotoServer:
    """A running moto server: ``endpoint`` is ``http://127.0.0.1:PORT``."""

    endpoint: str

    def aws_config(self, **fields: object) -> AwsConfig:
        """Assay's ``aws`` settings pointing at this server (keys ``testing``/``testing``)."""
        base: dict[str, object] = {
            "region": REGION,
            "endpoint_url": self.endpoint,
            "access_key_id": "testing",
            "secret_access_key": "testing",
        }
        base.update(fields)
        return AwsConfig(**base)  # type: ignore[arg-type]

    def freeze(self, model: str, times: int = 1_000_000) -> None:
        """Keep ``model``'s resources (e.g. ``ecs::task``) in their first state.

        moto advances managed states on every describe call by default (a task is RUNNING, then
        DEACTIVATING, ...); a manual progression after ``times`` calls keeps tasks RUNNING.
        """
        body = json.dumps({"model_name": model, "transition": {"progression": "manual", "times": times}})
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/state-manager/set-transition", data=body.encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10):
            pass

    def reset(self) -> None:
        """Forget every resource (moto's ``/moto-api/reset``)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass


def _moto_binary() -> list[str]:
    beside = Path(sys.executable).with_name("moto_server")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("moto_server")
    require(found is not None, "needs moto_server (pip install 'moto[server]', in the test extra)")
    assert found is not None
    return [found]


@contextmanager
def moto_server(work_dir: Path) -> Iterator[MotoServer]:
    """Start ``moto_server -H 127.0.0.1 -p PORT``; stop it (only that process) on exit."""
    work_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = work_dir / "moto.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*_moto_binary(), "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"moto_server exited ({proc.returncode}): {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):
                    break
            except urllib.error.HTTPError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not answer on {endpoint} within 30s") from None
                time.sleep(0.1)
        yield MotoServer(endpoint)
    finally:
        stop_process(proc)
