"""Time from a pod's start to its image's findings on ``assay.findings.v1``, as deployed.

The default install (``k8s/``) runs on the system tests' harness (``tests/system/``: every
workload its own processes, configured from the rendered manifests; embedded PostgreSQL, the
Tansu broker, Debian's docker-registry over HTTPS, the fake Kubernetes API). Once every workload
is up, pods start one at a time, each running an image of its own digest (copies of the Alpine
fixture whose configs differ by a label); the clock runs from the fake API server's ADDED event
to the first ``FindingEvent`` of that digest read from the topic. Reported: p50 and p95 over the
pods, with one and with two engine replicas, and the throughput: images with findings per minute
from the first pod's start to the last image's findings (``--interval 0`` starts every pod at once,
so that engines, not arrivals, set the pace).

    .venv/bin/python benchmarks/bench_pipeline_latency.py --pods 12 --interval 1.0
    .venv/bin/python benchmarks/bench_pipeline_latency.py --pods 16 --interval 0   # throughput
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from schemas.codec import decode_event  # noqa: E402
from schemas.events import FindingEvent  # noqa: E402
from schemas.topics import Topics  # noqa: E402
from services.common.bus.kafka import KafkaBus  # noqa: E402
from services.common.embedded import EmbeddedBroker, EmbeddedPostgres  # noqa: E402
from tests.harness.fake_kube import fake_kube  # noqa: E402
from tests.harness.registry import push_image  # noqa: E402
from tests.system.cluster import pod  # noqa: E402
from tests.system.endpoints import Endpoints  # noqa: E402
from tests.system.kubelet import Kubelet, running_fleet  # noqa: E402
from tests.system.scenario import registry_digest  # noqa: E402
from tests.system.tls_registry import TlsRegistry, tls_registry  # noqa: E402
from tests.system.workloads import Workload, k8s_workloads  # noqa: E402


def _blob(layout: Path, data: bytes) -> dict[str, object]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(data)
    return {"digest": digest, "size": len(data)}


def _link_blob(src: str, dst: str) -> None:
    """Blobs are never rewritten: hard-link them (a large image costs no disk); copy the rest."""
    if f"{os.sep}blobs{os.sep}" in src:
        try:
            os.link(src, dst)
            return
        except OSError:  # another file system
            pass
    shutil.copy2(src, dst)


def variant(source: Path, target: Path, n: int) -> None:
    """An OCI layout of ``source``'s image whose config carries label ``bench=n``: a new digest."""
    shutil.copytree(source, target, copy_function=_link_blob)
    index = json.loads((target / "index.json").read_text())
    desc = index["manifests"][0]
    manifest = json.loads((target / "blobs" / "sha256" / desc["digest"].split(":")[1]).read_bytes())
    config = json.loads(
        (target / "blobs" / "sha256" / manifest["config"]["digest"].split(":")[1]).read_bytes()
    )
    config.setdefault("config", {}).setdefault("Labels", {})["bench"] = str(n)
    manifest["config"].update(_blob(target, json.dumps(config).encode()))
    desc.update(_blob(target, json.dumps(manifest).encode()))
    (target / "index.json").write_text(json.dumps(index))


def push_variants(reg: TlsRegistry, source: Path, work: Path, count: int) -> list[str]:
    """``count`` variants of the OCI layout ``source`` (``variant``) pushed as ``bench/app:N``;
    their manifest digests. One repository, so layers they share upload once."""
    digests = []
    for i in range(count):
        layout = work / "images" / str(i)
        variant(source, layout, i)
        push_image(reg.server, f"oci:{layout}:latest", f"bench/app:{i}")
        digests.append(registry_digest(reg.host, f"bench/app:{i}"))
    return digests


async def _first_findings(bootstrap: str, seen: dict[str, float], stop: asyncio.Event) -> None:
    bus = KafkaBus(bootstrap, client_id="bench-latency")
    await bus.start()
    consumer = bus.consumer(f"bench-{time.time_ns()}", [Topics.FINDINGS])
    await consumer.start()
    try:
        while not stop.is_set():
            for m in await consumer.fetch(max_records=500, timeout_s=0.2):
                event = decode_event(Topics.FINDINGS, m.value)
                if isinstance(event, FindingEvent):
                    seen.setdefault(event.digest, time.monotonic())
    finally:
        await consumer.stop()
        await bus.stop()


async def _engines_ready(fleet: Kubelet, limit_s: float = 600) -> None:
    deadline = time.monotonic() + limit_s
    engines = fleet.pods_of("assay-engine")
    while not (
        fleet.started() and all("advisory database: now" in fleet.log(p.name, "engine") for p in engines)
    ):
        if time.monotonic() > deadline:
            raise SystemExit(f"engines did not start: {fleet.events}")
        await asyncio.sleep(0.5)
    await asyncio.sleep(10)  # the consumer group settles once every member has joined


async def measure(
    engines: int,
    reg: TlsRegistry,
    work: Path,
    args: argparse.Namespace,
    engine_env: dict[str, str] | None = None,
) -> tuple[list[float], float]:
    """Latencies (seconds) of ``pods`` pods with ``engines`` engine replicas, on fresh endpoints, and
    images per minute from the first start to the last findings. ``engine_env`` is added to the
    engine containers' environment (``ASSAY_ENGINE_CONCURRENCY``, for one scan per process)."""
    with EmbeddedPostgres(work / "pg") as pg, EmbeddedBroker(work / "broker") as broker:
        async with fake_kube() as kube:
            endpoints = Endpoints(
                pg_dsn=pg.dsn,
                kafka_bootstrap=broker.bootstrap,
                kubeconfig=str(kube.write_kubeconfig(work / "kubeconfig")),
                ca_file=str(reg.ca_file),
                advisory_source=str(args.vulndata),
                secrets={("assay-postgres", "dsn"): pg.dsn},
            )
            workloads = [
                _engine(w, engines, engine_env or {}) if w.name == "assay-engine" else w
                for w in k8s_workloads()
            ]
            seen: dict[str, float] = {}
            stop = asyncio.Event()
            async with running_fleet(Kubelet(endpoints, work / "fleet"), workloads) as fleet:
                await _engines_ready(fleet)
                reader = asyncio.create_task(_first_findings(broker.bootstrap, seen, stop))
                started: dict[str, float] = {}
                for i, digest in enumerate(args.digests):
                    kube.add_pod(pod("bench", f"app-{i}", image=f"{reg.host}/bench/app:{i}", digest=digest))
                    started[digest] = time.monotonic()
                    if args.interval:
                        await asyncio.sleep(args.interval)
                deadline = time.monotonic() + 600
                while set(started) - set(seen) and time.monotonic() < deadline:  # noqa: ASYNC110 - polls a dict
                    await asyncio.sleep(0.2)
                stop.set()
                await reader
    missing = set(started) - set(seen)
    if missing:
        raise SystemExit(f"{len(missing)} pods never got findings with {engines} engine(s)")
    span = max(seen[d] for d in started) - min(started.values())
    return [seen[d] - started[d] for d in started], len(started) * 60.0 / span


def _engine(workload: Workload, replicas: int, env: dict[str, str]) -> Workload:
    extra = tuple({"name": k, "value": v} for k, v in env.items())
    containers = tuple(dataclasses.replace(c, env=c.env + extra) for c in workload.containers)
    return dataclasses.replace(workload, replicas=replicas, containers=containers)


def _percentile(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]
    )


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pods", type=int, default=12)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between pod starts")
    parser.add_argument("--fixtures", type=Path, default=ROOT / ".fixtures")
    parser.add_argument("--vulndata", type=Path, default=ROOT.parent / "shared" / "vulndata")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        work = Path(tmp)
        with tls_registry(work / "registry") as reg:
            args.digests = push_variants(reg, args.fixtures / "oci" / "alpine", work, args.pods)
            print(
                f"{args.pods} pods, one every {args.interval}s; "
                f"pod ADDED -> first finding on {Topics.FINDINGS}"
            )
            print(f"{'engines':>8} {'p50 s':>8} {'p95 s':>8} {'max s':>8} {'images/min':>11}")
            for engines in (1, 2):
                lat, rate = await measure(engines, reg, work / f"run-{engines}", args)
                p50, p95 = _percentile(lat, 50), _percentile(lat, 95)
                print(f"{engines:>8} {p50:>8.2f} {p95:>8.2f} {max(lat):>8.2f} {rate:>11.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
