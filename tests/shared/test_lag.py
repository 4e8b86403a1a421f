"""Consumer lag read from outside the consumers, on the embedded bus and on Kafka; the sampler."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from vigie_shared.bus import OutgoingRecord, open_bus
from vigie_shared.bus.lag import PartitionLag, open_lag_reader
from vigie_shared.events.v1 import TOPICS
from vigie_shared.metrics import ServiceMetrics
from vigie_shared.sampling import Sampler, lag_probe

TOPIC = TOPICS["comment.received"]
OTHER = TOPICS["moderation.decided"]


async def test_lag_counts_what_a_group_has_not_committed(bus_url: str, topic_prefix: str) -> None:
    bus = open_bus(bus_url, client_id="lag-test", topic_prefix=topic_prefix)
    await bus.start()
    reader = open_lag_reader(bus_url, client_id="lag-test", topic_prefix=topic_prefix)
    group = f"{topic_prefix}g-{uuid.uuid4().hex[:6]}"
    try:
        await bus.publish_many([OutgoingRecord(TOPIC, f"k{n}", b"x") for n in range(5)])
        await bus.publish_many([OutgoingRecord(OTHER, "k", b"y") for _ in range(2)])

        before = await reader.lag(group, [TOPIC, OTHER])
        assert {row.topic for row in before} == {TOPIC, OTHER}
        assert sum(r.lag for r in before if r.topic == TOPIC) == 5
        assert sum(r.lag for r in before if r.topic == OTHER) == 2

        consumer = bus.consumer(group, [TOPIC])
        await consumer.start()
        try:
            fetched = []
            for _ in range(50):
                fetched = await consumer.fetch(max_records=2, timeout=0.5)
                if fetched:
                    break
            assert fetched
            await consumer.commit(fetched)
        finally:
            await consumer.stop()

        after = await reader.lag(group, [TOPIC, OTHER])
        assert sum(r.lag for r in after if r.topic == TOPIC) == 5 - len(fetched)
        assert sum(r.lag for r in after if r.topic == OTHER) == 2
        assert all(r.group == group and r.end >= r.committed for r in after)
    finally:
        await reader.close()
        await bus.close()


class FixedReader:
    def __init__(self) -> None:
        self.fail = False

    async def lag(self, group: str, topics: list[str]) -> list[PartitionLag]:
        if self.fail:
            raise RuntimeError("broker gone")
        return [PartitionLag(group, t, p, 10, 10 + p) for t in topics for p in range(2)]

    async def close(self) -> None:
        return None


def value(metrics: ServiceMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


async def test_the_sampler_sets_lag_per_partition_and_keeps_it_when_a_probe_fails() -> None:
    metrics = ServiceMetrics("test")
    reader = FixedReader()
    sampler = Sampler(metrics, every=0.05)
    sampler.add("consumer_lag", lag_probe(reader, metrics, lambda: [("g", [TOPIC])]))
    await sampler.sample()
    labels = {"group": "g", "topic": TOPIC}
    assert value(metrics, "vigie_test_bus_consumer_lag", **labels, partition="0") == 0
    assert value(metrics, "vigie_test_bus_consumer_lag", **labels, partition="1") == 1

    reader.fail = True
    await sampler.sample()
    assert value(metrics, "vigie_test_bus_consumer_lag", **labels, partition="1") == 1
    assert value(metrics, "vigie_test_metrics_sample_failures_total", probe="consumer_lag") == 1

    with pytest.raises(ValueError, match="twice"):
        sampler.add("consumer_lag", lag_probe(reader, metrics, list))


async def test_the_sampler_runs_on_its_timer_until_stopped() -> None:
    metrics = ServiceMetrics("test")
    calls = 0

    async def probe() -> None:
        nonlocal calls
        calls += 1

    sampler = Sampler(metrics, every=0.01)
    sampler.add("count", probe)
    sampler.start()
    await asyncio.sleep(0.2)
    await sampler.stop()
    seen = calls
    assert seen >= 3
    await asyncio.sleep(0.05)
    assert calls == seen
