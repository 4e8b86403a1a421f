"""Dead letters go back to their source topic after a fix, and the group that refused them handles them."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from vigie_shared.bus import Bus, ConsumerLoop, Message, PoisonMessage, decode, open_bus
from vigie_shared.deadletters import REPLAY_HEADER, parse_since, replay
from vigie_shared.events.v1 import DEADLETTER_TOPIC, TOPICS

from tests.shared.test_bus_contract import RECEIVED, collect, event, publish


@pytest.fixture
async def bus(bus_url: str, topic_prefix: str) -> AsyncIterator[Bus]:
    bus = open_bus(bus_url, client_id="dlq-test", topic_prefix=topic_prefix)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()


def test_since_takes_a_duration_or_a_time() -> None:
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert parse_since("2h", now=now) == now - timedelta(hours=2)
    assert parse_since("30m", now=now) == now - timedelta(minutes=30)
    assert parse_since("7d", now=now) == now - timedelta(days=7)
    assert parse_since("2026-12-01T08:00:00Z") == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert parse_since("2026-12-01T08:00:00") == datetime(2026, 12, 1, 8, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a time"):
        parse_since("yesterday")


async def _run_until(loop: ConsumerLoop, done: asyncio.Event) -> None:
    loop.start()
    try:
        await asyncio.wait_for(done.wait(), 30)
    finally:
        await loop.stop()


async def test_a_refused_record_is_replayed_after_the_fix(bus: Bus) -> None:
    for n in range(3):
        await publish(bus, event("dl", n))
    fixed = False
    handled: list[str] = []
    progress = asyncio.Event()

    async def handler(message: Message) -> None:
        text = decode(message).data.text  # type: ignore[attr-defined]
        if text == "comment 1" and not fixed:
            raise PoisonMessage("not supported yet")
        handled.append(text)
        if len(handled) == (2 if not fixed else 3):
            progress.set()

    await _run_until(ConsumerLoop(bus, group="g-fix", topics=[RECEIVED], handler=handler), progress)
    assert handled == ["comment 0", "comment 2"]

    future = await replay(bus, since=datetime.now(UTC) + timedelta(hours=1), first_wait=5)
    assert future.replayed == 0
    other = await replay(bus, topic=TOPICS["moderation.decided"], first_wait=5)
    assert other.replayed == 0
    dry = await replay(bus, topic=RECEIVED, since=parse_since("1h"), dry_run=True, first_wait=5)
    assert (dry.examined, dry.replayed) == (1, 1)

    fixed = True
    progress.clear()
    report = await replay(bus, topic=RECEIVED, since=parse_since("1h"), group="g-fix", first_wait=5)
    assert report.replayed == 1
    assert report.by_topic == {RECEIVED: 1}
    await _run_until(ConsumerLoop(bus, group="g-fix", topics=[RECEIVED], handler=handler), progress)
    assert handled == ["comment 0", "comment 2", "comment 1"]
    # What went back is the original record with its envelope, not the dead-letter wrapping.
    back = await collect(bus, "g-fix-reader", 4)
    replayed = [m for m in back if REPLAY_HEADER in m.headers]
    assert len(replayed) == 1
    assert decode(replayed[0]).data.text == "comment 1"  # type: ignore[attr-defined]
    assert not any(name.startswith("vigie_") and name != REPLAY_HEADER for name in replayed[0].headers)
    assert len(await collect(bus, "g-fix-dlq", 1, topics=[DEADLETTER_TOPIC], deadline=3)) == 1


def test_the_command_line_replays_and_reports(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/bus.db"

    async def seed() -> None:
        bus = open_bus(url, client_id="seed")
        await bus.start()
        original = event("cli", 0)
        headers = [
            *original.headers(),
            ("vigie_source_topic", RECEIVED.encode()),
            ("vigie_source_offset", b"0:7"),
            ("vigie_group", b"vigie-audit"),
            ("vigie_deadlettered_at", datetime.now(UTC).isoformat().encode()),
        ]
        await bus.publish(DEADLETTER_TOPIC, original.data.key(), original.body(), headers)
        await bus.close()

    asyncio.run(seed())
    env = {**os.environ, "VIGIE_BUS_URL": url}
    args = [sys.executable, "-m", "vigie_shared.deadletters", "replay", "--since", "1h", "--wait", "1"]
    dry = subprocess.run(
        [*args, "--dry-run"], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(dry.stdout) == {
        "dry_run": True,
        "examined": 1,
        "replayed": 1,
        "by_topic": {RECEIVED: 1},
    }
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(done.stdout)["replayed"] == 1

    async def read() -> list[Message]:
        bus = open_bus(url, client_id="read")
        await bus.start()
        try:
            return await collect(bus, "reader", 1)
        finally:
            await bus.close()

    got = asyncio.run(read())
    assert [decode(m).data.text for m in got] == ["comment 0"]  # type: ignore[attr-defined]
