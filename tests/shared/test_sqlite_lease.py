"""The embedded bus under slow handlers and lost leases, and its retention of consumed records."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from vigie_shared.bus import BusOptions, CommitRefused, ConsumerLoop, Message, open_bus
from vigie_shared.bus.sqlite import SqliteBus, SqliteConsumer
from vigie_shared.events.v1 import DEADLETTER_TOPIC
from vigie_shared.metrics import ServiceMetrics

LEASE = 0.6  # stands for the 10 s default: the handler below takes 4 leases


def _bus(tmp_path: Path, **options: float) -> SqliteBus:
    bus = open_bus(f"sqlite:///{tmp_path}/bus.db", client_id="t", options=BusOptions(**options))  # type: ignore[arg-type]
    assert isinstance(bus, SqliteBus)
    return bus


async def test_a_handler_slower_than_the_lease_keeps_its_group(tmp_path: Path) -> None:
    bus = _bus(tmp_path, lease_seconds=LEASE)
    await bus.start()
    await bus.publish("topic", "k", b"slow", [])
    first, second = bus.consumer("g", ["topic"]), bus.consumer("g", ["topic"])
    await first.start()
    await second.start()
    got = await first.fetch(10, 0.5)
    assert [m.value for m in got] == [b"slow"]
    # The "12-second handler": while it works, the other member polls past several lease lengths.
    assert await second.fetch(10, LEASE * 4) == []
    await first.commit(got)
    await first.stop()
    assert await second.fetch(10, LEASE * 2) == []  # committed once, by its owner
    await second.stop()
    await bus.close()


async def test_a_member_that_lost_its_lease_cannot_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bus = _bus(tmp_path, lease_seconds=LEASE)
    await bus.start()
    await bus.publish("topic", "k", b"contested", [])
    frozen, other = bus.consumer("g", ["topic"]), bus.consumer("g", ["topic"])
    assert isinstance(frozen, SqliteConsumer)
    await frozen.start()
    await other.start()

    # A process stopped by the OS (or a blocked event loop) does not renew.
    async def no_renewal() -> bool:
        await asyncio.sleep(3600)
        return True

    monkeypatch.setattr(frozen, "_renew_lease", no_renewal)
    got = await frozen.fetch(10, 0.5)
    taken = await other.fetch(10, LEASE * 4)
    assert [m.value for m in taken] == [b"contested"]
    with pytest.raises(CommitRefused):
        await frozen.commit(got)
    await other.commit(taken)
    await other.stop()
    # The refused member starts again from what the group committed, not from what it had read.
    assert await frozen.fetch(10, LEASE * 3) == []
    await frozen.stop()
    await bus.close()


async def test_the_loop_does_not_handle_a_batch_twice_after_a_refused_commit(tmp_path: Path) -> None:
    bus = _bus(tmp_path, lease_seconds=LEASE)
    await bus.start()
    for n in range(3):
        await bus.publish("topic", "k", str(n).encode(), [])
    handled: list[bytes] = []
    stolen = asyncio.Event()
    thief = bus.consumer("g", ["topic"])
    await thief.start()

    async def handler(message: Message) -> None:
        handled.append(message.value)
        if len(handled) == 1:
            # Freezes the whole process past the lease, as a stop-the-world pause would.
            time.sleep(LEASE * 2)  # noqa: ASYNC251 - the point is to block the loop
            taken = await thief.fetch(10, 0.5)
            assert [m.value for m in taken] == [b"0", b"1", b"2"]
            await thief.commit(taken)
            stolen.set()

    metrics = ServiceMetrics("lease")
    loop = ConsumerLoop(
        bus, group="g", topics=["topic"], handler=handler, metrics=metrics, fetch_timeout=0.05
    )
    loop.start()
    await asyncio.wait_for(stolen.wait(), 30)
    await asyncio.sleep(LEASE * 3)
    await loop.stop()
    await thief.stop()
    assert handled == [b"0", b"1", b"2"]  # the refused batch was not handled a second time
    refused = metrics.registry.get_sample_value(
        "vigie_lease_bus_commit_failures_total", {"group": "g", "reason": "refused"}
    )
    assert refused == 1
    await bus.close()


async def test_records_every_group_consumed_are_pruned_after_retention(tmp_path: Path) -> None:
    bus = _bus(tmp_path, retention_days=1)
    await bus.start()
    for n in range(4):
        await bus.publish("a", "k", f"a{n}".encode(), [])
        await bus.publish("b", "k", f"b{n}".encode(), [])
    await bus.publish(DEADLETTER_TOPIC, "k", b"dead", [])
    # Ten days old, as far as retention can tell.
    with sqlite3.connect(tmp_path / "bus.db") as raw:
        raw.execute("UPDATE records SET created = created - 10 * 86400")
    await bus.publish("a", "k", b"a-recent", [])

    fast = bus.consumer("fast", ["a", "b", DEADLETTER_TOPIC])
    slow = bus.consumer("slow", ["a"])
    assert isinstance(fast, SqliteConsumer)
    fast.prune_interval = 0
    for consumer in (fast, slow):
        await consumer.start()
    read = await fast.fetch(100, 0.5)
    assert len(read) == 10
    two = await slow.fetch(2, 0.5)
    await slow.commit(two)  # "slow" has read a0 and a1 only
    await fast.commit(read)
    with sqlite3.connect(tmp_path / "bus.db") as raw:
        left = sorted(bytes(v).decode() for (v,) in raw.execute("SELECT value FROM records"))
    # a: kept from where the slowest group stands, plus what is recent; b: every known group read
    # it; the dead letters stay for a replay whoever read them.
    assert left == ["a-recent", "a2", "a3", "dead"]
    for consumer in (fast, slow):
        await consumer.stop()
    # A new group of an existing topic starts from what is left.
    late = bus.consumer("late", ["a"])
    await late.start()
    assert [m.value for m in await late.fetch(100, 0.5)] == [b"a2", b"a3", b"a-recent"]
    await late.stop()
    await bus.close()
