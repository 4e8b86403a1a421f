"""The outbox: events commit with the change they announce, and a relay publishes them in order,
waiting out a bus that is down instead of losing or reordering anything."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from vigie_moderator.adapters.store import OutboxRow, ReviewRow, ReviewStore
from vigie_shared.bus import Bus, BusUnavailable, OutgoingRecord, open_bus
from vigie_shared.db import create_engine
from vigie_shared.events import Envelope
from vigie_shared.events.v1 import TOPICS, CommentRef, Keyed, ModerationReviewed, Platform, ReviewVerdict
from vigie_shared.metrics import ServiceMetrics
from vigie_shared.outbox import OutboxRelay

REF = CommentRef(platform=Platform.DISCORD, community="guild", thread_id="chan", comment_id="m1")


def reviewed(n: int) -> Envelope[Keyed]:
    data = ModerationReviewed(
        comment=REF,
        review_id=f"r{n}",
        verdict=ReviewVerdict.APPROVE,
        reviewer="mod",
        decided_at=datetime.now(UTC),
    )
    return Envelope[Keyed].wrap(data, source="vigie/test", correlationid="c", id=f"evt-{n}")


class FlakyBus:
    """A real bus that refuses writes while `down` is set, as a broker outage looks to a client."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self.down = False

    async def publish_many(self, records: Sequence[OutgoingRecord]) -> None:
        if self.down:
            raise BusUnavailable("broker down")
        await self._bus.publish_many(records)

    def __getattr__(self, name: str) -> object:
        return getattr(self._bus, name)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[ReviewStore]:
    engine = create_engine(database_url)
    reviews = ReviewStore(engine)
    await reviews.migrate()
    yield reviews
    await engine.dispose()


async def staged_count(store: ReviewStore) -> int:
    async with store.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(OutboxRow))).scalar_one())


async def test_events_are_staged_only_if_the_change_commits(store: ReviewStore) -> None:
    async def failing_change() -> None:
        async with store.sessions.begin() as session:
            await store.stage(session, [reviewed(1)])
            raise RuntimeError("the change failed after staging")

    with pytest.raises(RuntimeError):
        await failing_change()
    assert await staged_count(store) == 0
    async with store.sessions.begin() as session:
        await store.stage(session, [reviewed(1), reviewed(2)])
        await store.stage(session, [reviewed(1)])  # the same event again: kept once
    assert await staged_count(store) == 2


async def test_a_decision_staged_while_the_bus_is_down_is_published_once_it_is_back(
    store: ReviewStore, tmp_path: Path
) -> None:
    real = open_bus(f"sqlite:///{tmp_path}/bus.db", client_id="test")
    await real.start()
    bus = FlakyBus(real)
    bus.down = True
    metrics = ServiceMetrics("outboxtest")
    relay = OutboxRelay(store.sessions, OutboxRow, bus, metrics=metrics, poll_interval=0.05, max_backoff=0.2)  # type: ignore[arg-type]
    store.on_staged = relay.notify
    relay.start()
    try:
        now = datetime.now(UTC)
        await store.add_if_absent(
            ReviewRow(
                id="r1",
                platform="discord",
                community="guild",
                thread_id="chan",
                comment_id="m1",
                correlation_id="c",
                author_pseudonym="psn",
                text="held",
                language="en",
                scores={},
                reasons=[],
                categories=[],
                policy_version="p",
                status="pending",
                created_at=now,
            )
        )
        row = await store.decide(
            "r1",
            verdict="approve",
            reviewer="mod",
            reason=None,
            announce=lambda _row: [reviewed(1), reviewed(2)],
        )
        assert row.status == "decided"  # the verdict stands although the bus is down
        for _ in range(100):
            if await relay.check() is not None:
                break
            await asyncio.sleep(0.02)
        assert await relay.check() == "outbox relay failing: BusUnavailable"
        assert metrics.registry.get_sample_value("vigie_outboxtest_outbox_pending") == 2

        bus.down = False
        consumer = real.consumer("reader", [TOPICS["moderation.reviewed"]])
        await consumer.start()
        records = []
        for _ in range(100):
            records += await consumer.fetch(10, 0.1)
            if len(records) >= 2:
                break
        await consumer.stop()
        assert [r.headers["ce_id"] for r in records] == ["evt-1", "evt-2"]
        assert await relay.check() is None
    finally:
        await relay.stop()
        await real.close()
