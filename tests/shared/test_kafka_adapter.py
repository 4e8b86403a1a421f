"""What only the Kafka adapter has to prove, against the real broker (never skipped)."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from vigie_shared.bus import BusOptions, BusUnavailable, ConsumerLoop, Message, decode, open_bus
from vigie_shared.bus.kafka import KafkaBus, KafkaConsumer, bootstrap_from_url
from vigie_shared.events.v1 import DEADLETTER_TOPIC
from vigie_shared.metrics import ServiceMetrics

from tests.shared.test_bus_contract import RECEIVED, event, publish

pytestmark = pytest.mark.kafka


async def _raw_records(
    bootstrap: str, topic: str, want: int, timeout: float = 30
) -> list[tuple[bytes | None, list[tuple[str, bytes]]]]:
    reader = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"raw-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
    )
    await reader.start()
    out: list[tuple[bytes | None, list[tuple[str, bytes]]]] = []
    try:
        end = time.monotonic() + timeout
        while len(out) < want and time.monotonic() < end:
            for records in (await reader.getmany(timeout_ms=500)).values():
                out += [(r.key, list(r.headers)) for r in records]
    finally:
        await reader.stop()
    return out


async def test_a_record_whose_key_or_headers_do_not_decode_is_dead_lettered_as_it_came(
    kafka_url: str, topic_prefix: str
) -> None:
    bootstrap = bootstrap_from_url(kafka_url)
    bus = open_bus(kafka_url, client_id="undecodable", topic_prefix=topic_prefix)
    await bus.start()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    good = event("ok", 1)
    try:
        await producer.send_and_wait(topic_prefix + RECEIVED, b"{}", key=b"\xff\xfe-bad-key", partition=0)
        await producer.send_and_wait(
            topic_prefix + RECEIVED, b"{}", key=b"fine", headers=[("ce_id", b"\xc3\x28")], partition=0
        )
        await producer.send_and_wait(
            topic_prefix + RECEIVED,
            good.body(),
            key=good.data.key().encode(),
            headers=[(n, v) for n, v in good.headers()],
            partition=0,
        )
    finally:
        await producer.stop()
    handled: list[str] = []
    done = asyncio.Event()

    async def handler(message: Message) -> None:
        handled.append(decode(message).data.text)  # type: ignore[attr-defined]
        done.set()

    metrics = ServiceMetrics("kafka")
    loop = ConsumerLoop(bus, group=f"{topic_prefix}g", topics=[RECEIVED], handler=handler, metrics=metrics)
    loop.start()
    try:
        await asyncio.wait_for(done.wait(), 60)
    finally:
        await loop.stop()
        await bus.close()
    assert handled == ["comment 1"]  # the loop went past both instead of restarting on them
    assert metrics.consumer_restarts.labels(group=f"{topic_prefix}g")._value.get() == 0
    dead = await _raw_records(bootstrap, topic_prefix + DEADLETTER_TOPIC, 2)
    assert len(dead) == 2
    (key1, headers1), (_, headers2) = dead
    assert key1 == b"\xff\xfe-bad-key"  # byte for byte
    assert dict(headers2)["ce_id"] == b"\xc3\x28"
    assert b"not UTF-8: key" in dict(headers1)["vigie_error"]
    assert b"header ce_id" in dict(headers2)["vigie_error"]


async def test_topics_are_created_with_the_configured_replication(kafka_url: str, topic_prefix: str) -> None:
    bootstrap = bootstrap_from_url(kafka_url)
    bus = KafkaBus(
        bootstrap,
        client_id="rf",
        topic_prefix=topic_prefix,
        topics=[RECEIVED],
        partitions=2,
        replication_factor=1,
        min_insync_replicas=1,
    )
    await bus.start()
    await bus.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic_prefix + RECEIVED)]
        )
        entries = {entry[0]: entry[1] for entry in described[0].resources[0][4]}
        assert entries["min.insync.replicas"] == "1"
        topics = await admin.describe_topics([topic_prefix + RECEIVED])
        assert len(topics[0]["partitions"]) == 2
    finally:
        await admin.close()
    # One broker cannot hold three copies: the setting is really passed to the broker.
    three = open_bus(
        kafka_url,
        client_id="rf3",
        topic_prefix=f"{topic_prefix}rf3.",
        options=BusOptions(replication_factor=3),
    )
    with pytest.raises(BusUnavailable):
        await three.start()
    await three.close()


async def test_a_rebalance_waits_for_the_batch_in_hand_and_commits_it(
    kafka_url: str, topic_prefix: str
) -> None:
    bus = open_bus(kafka_url, client_id="rebalance", topic_prefix=topic_prefix)
    await bus.start()
    for n in range(30):
        await publish(bus, event(f"t{n % 6}", n))
    group = f"{topic_prefix}g"
    first = bus.consumer(group, [RECEIVED])
    assert isinstance(first, KafkaConsumer)
    await first.start()
    batch: list[Message] = []
    end = time.monotonic() + 30
    while not batch and time.monotonic() < end:
        batch = await first.fetch(100, 0.5)
    assert batch
    # A second member joins while the first is still handling its batch.
    second = bus.consumer(group, [RECEIVED])
    second_got: list[Message] = []

    async def poll_second() -> None:
        # Started in the background: joining waits for the first member to finish its revocation.
        await second.start()
        stop = time.monotonic() + 15
        while time.monotonic() < stop:
            second_got.extend(await second.fetch(100, 0.5))

    polling = asyncio.create_task(poll_second())
    await asyncio.sleep(4)  # handling, past a heartbeat: the group starts rebalancing meanwhile
    await first.commit(batch)
    # Keep the first member alive and fetching so it can take part in the rebalance.
    first_more: list[Message] = []
    while not polling.done():
        first_more += await first.fetch(100, 0.5)
    await polling
    await first.stop()
    await second.stop()
    await bus.close()
    handled_first = {(m.partition, m.offset) for m in batch}
    again = {(m.partition, m.offset) for m in second_got + first_more}
    assert not handled_first & again, "records of a committed batch were delivered twice"
    assert len(handled_first) + len(again) == 30


async def test_a_producer_that_can_never_send_again_is_replaced(kafka_url: str, topic_prefix: str) -> None:
    """After a broker restart loses batches in flight, an idempotent producer answers every send
    with OutOfOrderSequenceNumber; the adapter drops it and the next attempt gets a new one."""
    from aiokafka.errors import OutOfOrderSequenceNumber

    bus = KafkaBus(bootstrap_from_url(kafka_url), client_id="renewal", topic_prefix=topic_prefix)
    await bus.start()
    try:
        broken = bus._producer
        assert broken is not None

        async def refuse(*args: object, **kwargs: object) -> None:
            raise OutOfOrderSequenceNumber()

        broken.send_and_wait = refuse  # type: ignore[method-assign]
        with pytest.raises(BusUnavailable):
            await publish(bus, event("t", 1))
        assert await bus.check() is None  # a new producer, already answering
        assert bus._producer is not broken
        await publish(bus, event("t", 2))
        records = await _raw_records(bootstrap_from_url(kafka_url), f"{topic_prefix}{RECEIVED}", 1)
        assert len(records) == 1
    finally:
        await bus.close()
