"""The publishing step on its own, with the in-memory state fake and an in-memory bus."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from vigie_ingest.adapters.memory import MemoryState
from vigie_ingest.domain.ports import StoreUnavailable
from vigie_ingest.metrics import IngestMetrics
from vigie_ingest.pipeline import Ingest, NotConfigured
from vigie_platforms.facebook import inbound as meta
from vigie_platforms.inbound.outcome import Item
from vigie_shared.bus import BusUnavailable, EventPublisher
from vigie_shared.bus.port import OutgoingRecord
from vigie_shared.metrics import ServiceMetrics

from tests.ingest.test_meta import PAGE, feed_change, page_delivery

NOW = datetime(2026, 11, 29, tzinfo=UTC)


class MemoryBus:
    def __init__(self) -> None:
        self.records: list[tuple[str, str | None, bytes]] = []
        self.writes = 0
        self.down = False

    async def publish_many(self, records: Sequence[OutgoingRecord]) -> None:
        await asyncio.sleep(0)  # a write takes time: deliveries arriving meanwhile queue up
        if self.down:
            raise BusUnavailable("test")
        self.writes += 1
        self.records += [(r.topic, r.key, r.value) for r in records]


class BrokenState(MemoryState):
    async def seen(self, keys: Iterable[str], now: float) -> set[str]:
        raise StoreUnavailable("disk gone (test)")


def items(*texts: str) -> tuple[Item, ...]:
    changes = [feed_change("add", f"{PAGE}_1_{n}", text) for n, text in enumerate(texts)]
    return meta.normalise(page_delivery(*changes), received_at=NOW, pseudonymise=lambda p, u: "psn").items


def ingest(bus: Any, state: Any, namespace: str = "") -> Ingest:
    return Ingest(
        publisher=EventPublisher(bus, source="vigie/ingest"),
        store=state,
        metrics=IngestMetrics(ServiceMetrics("ingest")),
        pseudonym_key=b"k",
        ttl_seconds=60,
        namespace=namespace,
    )


async def test_keys_are_recorded_only_for_what_the_bus_acknowledged() -> None:
    bus, state = MemoryBus(), MemoryState()
    bus.down = True
    with pytest.raises(BusUnavailable):
        await ingest(bus, state).publish(items("a", "b"), "meta")
    assert bus.records == []
    assert state.keys == {}
    bus.down = False
    result = await ingest(bus, state).publish(items("a", "b"), "meta")
    assert (result.published, result.duplicates) == (2, 0)
    assert len(state.keys) == 2


async def test_concurrent_deliveries_share_a_write_and_keep_their_order() -> None:
    bus = MemoryBus()
    pipeline = ingest(bus, MemoryState())
    deliveries = [
        meta.normalise(
            page_delivery(feed_change("add", f"{PAGE}_{n}_1", "a"), feed_change("add", f"{PAGE}_{n}_2", "b")),
            received_at=NOW,
            pseudonymise=lambda p, u: "psn",
        ).items
        for n in range(20)
    ]
    results = await asyncio.gather(*(pipeline.publish(d, "meta") for d in deliveries))
    assert all(r.published == 2 for r in results)
    assert len(bus.records) == 40
    assert bus.writes < 20
    ids = [json.loads(value)["comment"]["comment_id"] for _, _, value in bus.records]
    for n in range(20):
        assert ids.index(f"{PAGE}_{n}_1") + 1 == ids.index(f"{PAGE}_{n}_2")


async def test_a_failed_group_write_fails_every_delivery_in_it() -> None:
    bus = MemoryBus()
    bus.down = True
    pipeline = ingest(bus, MemoryState())
    outcomes = await asyncio.gather(
        pipeline.publish(items("x"), "meta"), pipeline.publish(items("y"), "meta"), return_exceptions=True
    )
    assert all(isinstance(o, BusUnavailable) for o in outcomes)


async def test_same_key_twice_in_one_delivery_is_published_once() -> None:
    bus = MemoryBus()
    [one] = items("same")
    result = await ingest(bus, MemoryState()).publish((one, one), "meta")
    assert (result.published, result.duplicates) == (1, 1)


async def test_keys_are_scoped_by_namespace() -> None:
    state = MemoryState()
    await ingest(MemoryBus(), state, namespace="run1.").publish(items("x"), "meta")
    result = await ingest(MemoryBus(), state, namespace="run2.").publish(items("x"), "meta")
    assert result.published == 1


async def test_an_unreadable_store_publishes_rather_than_loses() -> None:
    bus = MemoryBus()
    first = await ingest(bus, BrokenState()).publish(items("x"), "meta")
    assert first.published == 1
    assert len(bus.records) == 1


def test_no_pseudonym_key_is_not_configured() -> None:
    missing = Ingest(
        publisher=EventPublisher(MemoryBus(), source="x"),  # type: ignore[arg-type]
        store=MemoryState(),
        metrics=IngestMetrics(ServiceMetrics("ingest")),
        pseudonym_key=None,
        ttl_seconds=1,
    )
    with pytest.raises(NotConfigured):
        _ = missing.pseudonymise


@pytest.mark.parametrize(
    ("opted_in", "kept"),
    [(None, True), ([], False), (["another-page"], False), ([PAGE], True), (["*"], True)],
    ids=["not-wired", "nobody", "another", "this-page", "all"],
)
async def test_display_names_leave_ingest_only_for_communities_that_opt_in(
    opted_in: list[str] | None, kept: bool
) -> None:
    bus = MemoryBus()
    pipeline = Ingest(
        publisher=EventPublisher(bus, source="vigie/ingest"),
        store=MemoryState(),
        metrics=IngestMetrics(ServiceMetrics("ingest")),
        pseudonym_key=b"k",
        ttl_seconds=60,
        display_name_communities=opted_in,
    )
    await pipeline.publish(items("Bonjour"), "facebook")
    [(_, _, value)] = bus.records
    author = json.loads(value)["author"]
    assert author["pseudonym"] == "psn"
    assert (author["display_name"] is not None) is kept
