"""``assay service node``: the per-node daemon's lifespan.

It opens the runtime socket, serves the node's image content over the read-only OCI
distribution endpoint (``distribution.py``), and every ``node_report_interval_s`` publishes the
node's images to ``assay.inventory.v1`` (``images.py``) until it is told to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from opentelemetry import trace

from schemas.events import Event
from services.common.clock import utcnow
from services.common.config import Settings
from services.common.errors import ConfigError
from services.common.serve import parse_listen
from services.node.containerd import ContainerdClient, ContainerdError
from services.node.distribution import make_distribution_app
from services.node.images import NodeImage, inventory_events, node_images

__all__ = ["NodeConfig", "node_config", "report_once", "run_node"]

log = logging.getLogger(__name__)

Emit = Callable[[str, Event], Awaitable[None]]  # (key, event): publish on the inventory topic


@dataclass(frozen=True)
class NodeConfig:
    """The daemon's validated settings."""

    node: str
    environment: str  # "cluster:<name>"
    socket: str
    namespace: str
    host: str
    port: int
    advertise: str
    token: str
    interval_s: float


def node_config(settings: Settings) -> NodeConfig:
    """Check the node settings; ``ConfigError`` names what is missing."""
    if not settings.node_cluster:
        raise ConfigError("ASSAY_NODE_CLUSTER is not set: the cluster this node belongs to")
    if not settings.node_token:
        raise ConfigError("ASSAY_NODE_TOKEN is not set: the node endpoint never serves without a token")
    try:
        host, port = parse_listen(settings.node_listen)
    except ConfigError as exc:
        raise ConfigError(f"ASSAY_NODE_LISTEN: expected HOST:PORT, not {settings.node_listen!r}") from exc
    advertise = settings.node_advertise
    if not advertise:
        if host in ("0.0.0.0", "::", ""):
            raise ConfigError("ASSAY_NODE_ADVERTISE is not set and ASSAY_NODE_LISTEN binds every address")
        advertise = f"{host}:{port}"
    if settings.node_report_interval_s <= 0:
        raise ConfigError("ASSAY_NODE_REPORT_INTERVAL_S must be positive")
    return NodeConfig(
        node=settings.node_name,
        environment=f"cluster:{settings.node_cluster}",
        socket=settings.containerd_socket,
        namespace=settings.containerd_namespace,
        host=host,
        port=port,
        advertise=advertise,
        token=settings.node_token,
        interval_s=settings.node_report_interval_s,
    )


async def report_once(
    client: ContainerdClient, cfg: NodeConfig, previous: list[NodeImage], emit: Emit
) -> list[NodeImage]:
    """Publish this pass's sightings and removals; the images seen, for the next pass."""
    current = await node_images(client)
    events = inventory_events(
        current, previous, environment=cfg.environment, registry=cfg.advertise, now=utcnow()
    )
    for event in events:
        await emit(getattr(event, "digest", ""), event)
    return current


async def run_node(settings: Settings, publish: Emit, stop: asyncio.Event) -> None:
    """Serve and report until ``stop`` is set; a failed report pass is logged and retried next time."""
    cfg = node_config(settings)
    tracer = trace.get_tracer("assay.node")
    async with ContainerdClient(cfg.socket, namespace=cfg.namespace) as client:
        runtime = await client.runtime_version()
        runner = web.AppRunner(make_distribution_app(client, cfg.token), access_log=log)
        await runner.setup()
        try:
            site = web.TCPSite(runner, cfg.host, cfg.port)
            try:
                await site.start()
            except OSError as exc:
                raise ConfigError(
                    f"ASSAY_NODE_LISTEN: cannot listen on {settings.node_listen}: {exc}"
                ) from exc
            log.info(
                "node %s: %s; serving images on %s:%d as %s for %s",
                cfg.node or "(unnamed)",
                runtime,
                cfg.host,
                cfg.port,
                cfg.advertise,
                cfg.environment,
            )
            previous: list[NodeImage] = []
            while not stop.is_set():
                with tracer.start_as_current_span(
                    "node report", context=None, attributes={"assay.service": "node", "assay.node": cfg.node}
                ):
                    try:
                        previous = await report_once(client, cfg, previous, publish)
                        log.info("node: reported %d images", len(previous))
                    except ContainerdError as exc:
                        log.warning("node: cannot list images: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=cfg.interval_s)
        finally:
            await runner.cleanup()
