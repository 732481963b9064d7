"""``assay service node``: the per-node daemon's lifespan.

It opens the runtime socket, serves the node's image content over the read-only OCI
distribution endpoint (``distribution.py``, authorised by ``auth.py``), and every
``node.report_interval_s`` publishes the node's images to ``assay.inventory.v1`` (``images.py``)
until it is told to stop. ``NodeSource`` is the same loop as an ``InventorySource``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web
from opentelemetry import trace

from services.common.clock import utcnow
from services.common.errors import ConfigError
from services.common.hostport import split_host_port
from services.common.inventory import Publisher
from services.node.auth import NodeAuth
from services.node.containerd import ContainerdClient, ContainerdError
from services.node.content import RepositoryContent
from services.node.distribution import make_distribution_app
from services.node.images import NodeImage, inventory_events, node_images
from services.oci.nodetoken import load_public_key

if TYPE_CHECKING:
    from services.settings import Settings

__all__ = ["NodeConfig", "NodeSource", "node_config", "report_once", "run_node"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeConfig:
    """The daemon's validated settings."""

    node: str
    environment: str  # "cluster:<name>"
    ou: str  # the cluster's organisational unit ("" when none)
    socket: str
    namespace: str
    host: str
    port: int
    advertise: str
    auth: NodeAuth
    interval_s: float


def node_config(settings: Settings) -> NodeConfig:
    """Check the node settings; ``ConfigError`` names what is missing."""
    if not settings.node.cluster:
        raise ConfigError("ASSAY_NODE_CLUSTER is not set: the cluster this node belongs to")
    if not settings.node.public_key and not settings.node.token:
        raise ConfigError(
            "ASSAY_NODE_PUBLIC_KEY is not set: the node endpoint never serves without it "
            "(or the legacy shared ASSAY_NODE_TOKEN)"
        )
    try:
        host, port = split_host_port(settings.node.listen)
    except ValueError as exc:
        raise ConfigError(f"ASSAY_NODE_LISTEN: {exc}") from exc
    advertise = settings.node.advertise
    if not advertise:
        if host in ("0.0.0.0", "::", ""):
            raise ConfigError("ASSAY_NODE_ADVERTISE is not set and ASSAY_NODE_LISTEN binds every address")
        advertise = f"{host}:{port}"
    if settings.node.report_interval_s <= 0:
        raise ConfigError("ASSAY_NODE_REPORT_INTERVAL_S must be positive")
    key = load_public_key(settings.node.public_key) if settings.node.public_key else None
    return NodeConfig(
        node=settings.node.name,
        environment=f"cluster:{settings.node.cluster}",
        ou=settings.node.ou,
        socket=settings.containerd.socket,
        namespace=settings.containerd.namespace,
        host=host,
        port=port,
        advertise=advertise,
        auth=NodeAuth(audience=advertise, public_key=key, token="" if key else settings.node.token),
        interval_s=settings.node.report_interval_s,
    )


async def report_once(
    client: ContainerdClient,
    cfg: NodeConfig,
    previous: list[NodeImage],
    publish: Publisher,
    content: RepositoryContent | None = None,
) -> list[NodeImage]:
    """Publish this pass's sightings and removals; the images seen, for the next pass."""
    current = await node_images(client, content)
    events = inventory_events(
        current, previous, environment=cfg.environment, registry=cfg.advertise, now=utcnow(), ou=cfg.ou
    )
    for event in events:
        await publish.publish(event)
    return current


class NodeSource:
    """The node daemon as an ``InventorySource`` (it also serves its endpoint while it runs)."""

    name = "node"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def run(self, publish: Publisher, stop: asyncio.Event) -> None:
        """``run_node`` until ``stop`` is set."""
        await run_node(self._settings, publish, stop)


async def run_node(settings: Settings, publish: Publisher, stop: asyncio.Event) -> None:
    """Serve and report until ``stop`` is set; a failed report pass is logged and retried next time."""
    cfg = node_config(settings)
    if not cfg.auth.signed:
        log.warning(
            "node: ASSAY_NODE_TOKEN is one token shared by every node and opens all of them; "
            "set ASSAY_NODE_PUBLIC_KEY for per-node, per-repository tokens"
        )
    tracer = trace.get_tracer("assay.node")
    async with ContainerdClient(cfg.socket, namespace=cfg.namespace) as client:
        runtime = await client.runtime_version()
        content = RepositoryContent(client)
        runner = web.AppRunner(make_distribution_app(client, cfg.auth, content), access_log=log)
        await runner.setup()
        try:
            site = web.TCPSite(runner, cfg.host, cfg.port)
            try:
                await site.start()
            except OSError as exc:
                raise ConfigError(
                    f"ASSAY_NODE_LISTEN: cannot listen on {settings.node.listen}: {exc}"
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
                        previous = await report_once(client, cfg, previous, publish, content)
                        log.info("node: reported %d images", len(previous))
                    except ContainerdError as exc:
                        log.warning("node: cannot list images: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=cfg.interval_s)
        finally:
            await runner.cleanup()
