"""``run_sources``: polling sources and watching ones side by side, one ``BusPublisher`` for all."""

from __future__ import annotations

import asyncio

import pytest

from schemas import Topics, decode_event
from schemas.events import ImageDiscovered
from services.common.bus.memory import MemoryBus
from services.common.inventory import BusPublisher, Publisher, until_stopped
from services.inventory.deltas import Pass
from services.inventory.polling import PollingSource
from services.inventory.service import run_sources


def sighting(n: int) -> ImageDiscovered:
    return ImageDiscovered(
        environment="registry:r", registry="r", repository="app", tag=str(n), digest=f"sha256:{n:064x}"
    )


class OnePass:
    """A polling source in ``once`` mode: publishes, then returns."""

    name = "one pass"

    async def run(self, publish: Publisher, stop: asyncio.Event) -> None:
        await publish.publish(sighting(1))


class Watch:
    """A watching source: publishes, then runs until stopped."""

    name = "watch"

    def __init__(self) -> None:
        self.stopped = False

    async def run(self, publish: Publisher, stop: asyncio.Event) -> None:
        await publish.publish(sighting(2))
        await until_stopped(asyncio.Event().wait(), stop)
        self.stopped = True


class Broken:
    name = "broken"

    async def run(self, publish: Publisher, stop: asyncio.Event) -> None:
        raise RuntimeError("cannot start")


async def test_once_stops_the_watchers_after_the_pass_and_a_failure_stays_local(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = MemoryBus()
    await bus.start()
    watch = Watch()
    await asyncio.wait_for(run_sources([OnePass()], [watch, Broken()], BusPublisher(bus), asyncio.Event()), 5)
    assert watch.stopped
    records = bus.records(Topics.INVENTORY)
    assert sorted(decode_event(m.topic, m.value).digest for m in records) == [
        sighting(1).digest,
        sighting(2).digest,
    ]  # type: ignore[attr-defined]
    assert all(m.key == decode_event(m.topic, m.value).digest.encode() for m in records)  # type: ignore[attr-defined]
    assert any("broken stopped" in r.getMessage() for r in caplog.records)
    await bus.stop()


async def test_stop_ends_every_source() -> None:
    bus = MemoryBus()
    await bus.start()
    watch = Watch()
    stop = asyncio.Event()
    task = asyncio.create_task(run_sources([], [watch], BusPublisher(bus), stop))
    await asyncio.sleep(0.05)
    assert not task.done()  # no polling source: the watchers run until told
    stop.set()
    await asyncio.wait_for(task, 5)
    assert watch.stopped
    await bus.stop()


async def test_until_stopped_passes_the_work_s_error_on() -> None:
    async def fails() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await until_stopped(fails(), asyncio.Event())


class Fixed:
    """A poller that sees the same two images every time."""

    name = "fixed"

    async def poll(self) -> Pass:
        return Pass(events=[sighting(1), sighting(2)], environments=frozenset({"registry:r"}))


@pytest.mark.parametrize(("full_interval_s", "second_pass"), [(3600.0, 0), (0.0, 2)])
async def test_between_full_passes_only_changes_are_published(
    full_interval_s: float, second_pass: int
) -> None:
    bus = MemoryBus()
    await bus.start()
    source = PollingSource(Fixed(), interval_s=60, full_interval_s=full_interval_s)
    assert await source.pass_once(BusPublisher(bus)) == 2  # the first pass is a full one
    assert await source.pass_once(BusPublisher(bus)) == second_pass
    await bus.stop()


async def test_once_makes_one_pass() -> None:
    bus = MemoryBus()
    await bus.start()
    source = PollingSource(Fixed(), interval_s=3600, full_interval_s=3600, once=True)
    await asyncio.wait_for(source.run(BusPublisher(bus), asyncio.Event()), 5)
    assert len(bus.records(Topics.INVENTORY)) == 2
    await bus.stop()
