"""One contract suite, run against the embedded SQLite bus and against a real Kafka broker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import pytest
from vigie_shared.bus import Bus, ConsumerLoop, KafkaSecurity, Message, OutgoingRecord, decode, open_bus
from vigie_shared.events import Envelope
from vigie_shared.events.v1 import (
    DEADLETTER_TOPIC,
    TOPICS,
    Author,
    CommentReceived,
    CommentRef,
    Platform,
)
from vigie_shared.metrics import ServiceMetrics

RECEIVED = TOPICS["comment.received"]


@pytest.fixture
async def bus(bus_url: str, topic_prefix: str, kafka_security: KafkaSecurity | None) -> AsyncIterator[Bus]:
    bus = open_bus(bus_url, client_id="contract-test", topic_prefix=topic_prefix, security=kafka_security)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()


def event(thread: str, n: int) -> Envelope[CommentReceived]:
    now = datetime.now(UTC)
    data = CommentReceived(
        comment=CommentRef(platform=Platform.GENERIC, community="c", thread_id=thread, comment_id=str(n)),
        author=Author(pseudonym="psn_test"),
        text=f"comment {n}",
        created_at=now,
        received_at=now,
    )
    return Envelope.wrap(data, source="vigie/test", correlationid=f"corr-{thread}-{n}")


async def publish(bus: Bus, envelope: Envelope[CommentReceived]) -> None:
    await bus.publish(RECEIVED, envelope.data.key(), envelope.body(), envelope.headers())


async def collect(
    bus: Bus,
    group: str,
    want: int,
    *,
    topics: Sequence[str] = (RECEIVED,),
    commit: bool = True,
    deadline: float = 30.0,
) -> list[Message]:
    consumer = bus.consumer(group, list(topics))
    await consumer.start()
    got: list[Message] = []
    try:
        end = time.monotonic() + deadline
        while len(got) < want and time.monotonic() < end:
            batch = await consumer.fetch(100, 0.5)
            got += batch
            if commit and batch:
                await consumer.commit(batch)
        return got
    finally:
        await consumer.stop()


async def test_records_keep_their_order_per_key_and_their_headers(bus: Bus) -> None:
    sent = [event(thread, n) for n in range(10) for thread in ("a", "b", "c")]
    for envelope in sent:
        await publish(bus, envelope)
    got = await collect(bus, "g-order", len(sent))
    assert len(got) == len(sent)
    for thread in ("a", "b", "c"):
        texts = [decode(m).data.text for m in got if m.key == f"generic:c:{thread}"]  # type: ignore[attr-defined]
        assert texts == [f"comment {n}" for n in range(10)]
    first = decode(got[0])
    assert first.source == "vigie/test"
    assert got[0].headers["content-type"] == "application/json"


async def test_uncommitted_records_come_back_and_committed_ones_do_not(bus: Bus) -> None:
    for n in range(5):
        await publish(bus, event("t", n))
    seen = await collect(bus, "g-redeliver", 5, commit=False)
    assert len(seen) == 5
    # Nothing was committed: the next member of the group starts from the beginning again.
    again = await collect(bus, "g-redeliver", 5, commit=True)
    assert [m.value for m in again] == [m.value for m in seen]
    await publish(bus, event("t", 99))
    rest = await collect(bus, "g-redeliver", 1, deadline=10)
    assert [decode(m).data.text for m in rest] == ["comment 99"]  # type: ignore[attr-defined]


async def test_each_group_gets_every_record(bus: Bus) -> None:
    for n in range(3):
        await publish(bus, event("g", n))
    one = await collect(bus, "g-one", 3)
    two = await collect(bus, "g-two", 3)
    assert len(one) == len(two) == 3


async def _run_until(loop: ConsumerLoop, condition: asyncio.Event, timeout: float = 30) -> None:
    loop.start()
    try:
        await asyncio.wait_for(condition.wait(), timeout)
    finally:
        await loop.stop()


async def test_a_record_that_keeps_failing_goes_to_the_dead_letters_and_the_rest_flows(bus: Bus) -> None:
    for n in range(3):
        await publish(bus, event("d", n))
    handled: list[str] = []
    done = asyncio.Event()

    async def handler(message: Message) -> None:
        text = decode(message).data.text  # type: ignore[attr-defined]
        if text == "comment 1":
            raise RuntimeError("this one is cursed")
        handled.append(text)
        if len(handled) == 2:
            done.set()

    metrics = ServiceMetrics("contract")
    loop = ConsumerLoop(
        bus,
        group="g-dlq",
        topics=[RECEIVED],
        handler=handler,
        metrics=metrics,
        max_attempts=2,
        retry_backoff=0.01,
    )
    await _run_until(loop, done)
    assert handled == ["comment 0", "comment 2"]
    dead = await collect(bus, "g-dlq-reader", 1, topics=[DEADLETTER_TOPIC])
    assert len(dead) == 1
    assert "cursed" in dead[0].headers["vigie_error"]
    assert dead[0].headers["vigie_source_topic"] == RECEIVED
    assert dead[0].headers["vigie_attempts"] == "2"
    assert decode(dead[0]).data.text == "comment 1"  # type: ignore[attr-defined]
    assert metrics.deadlettered.labels(topic=RECEIVED)._value.get() == 1
    # The failed record was accounted for, so the group has moved past all three.
    assert await collect(bus, "g-dlq", 1, deadline=2) == []


async def test_a_record_with_a_broken_envelope_is_dead_lettered_without_retries(bus: Bus) -> None:
    await bus.publish(RECEIVED, "k", b"not json at all", [("ce_type", b"comment.received")])
    calls = 0
    done = asyncio.Event()

    async def handler(message: Message) -> None:
        nonlocal calls
        calls += 1
        decode(message)

    async def watch() -> None:
        dead = await collect(bus, "g-poison-reader", 1, topics=[DEADLETTER_TOPIC])
        assert dead and "missing header" in dead[0].headers["vigie_error"]
        done.set()

    loop = ConsumerLoop(bus, group="g-poison", topics=[RECEIVED], handler=handler, max_attempts=5)
    watcher = asyncio.create_task(watch())
    await _run_until(loop, done)
    await watcher
    assert calls == 1


async def test_a_batch_handler_failure_falls_back_to_one_by_one(bus: Bus) -> None:
    for n in range(4):
        await publish(bus, event("b", n))
    singles: list[str] = []
    done = asyncio.Event()

    async def batch_handler(messages: Sequence[Message]) -> None:
        raise RuntimeError("batch path broken")

    async def handler(message: Message) -> None:
        singles.append(decode(message).data.text)  # type: ignore[attr-defined]
        if len(singles) == 4:
            done.set()

    loop = ConsumerLoop(bus, group="g-batch", topics=[RECEIVED], handler=handler, batch_handler=batch_handler)
    await _run_until(loop, done)
    assert singles == [f"comment {n}" for n in range(4)]


async def test_readiness_check_answers(bus: Bus) -> None:
    assert await bus.check() is None


async def test_a_reader_of_several_topics_sees_causes_before_effects(bus: Bus) -> None:
    topics = [TOPICS["comment.received"], TOPICS["moderation.decided"], TOPICS["reply.drafted"]]
    for n in range(5):
        for topic in topics:
            created = datetime.now(UTC).isoformat().encode()
            await bus.publish(topic, f"thread-{n}", f"{topic}:{n}".encode(), [("ce_time", created)])
    got = await collect(bus, "g-multi", 15, topics=topics)
    for n in range(5):
        mine = [m.value.decode() for m in got if m.key == f"thread-{n}"]
        assert mine == [f"{topic}:{n}" for topic in topics]


async def test_publish_many_lands_everything_in_order(bus: Bus) -> None:
    records = [
        OutgoingRecord(TOPICS["comment.received"], f"k{n % 3}", f"{n}".encode(), [("ce_id", str(n).encode())])
        for n in range(30)
    ]
    await bus.publish_many(records)
    got = await collect(bus, "g-many", 30)
    assert len(got) == 30
    for key in ("k0", "k1", "k2"):
        values = [int(m.value) for m in got if m.key == key]
        assert values == sorted(values)
        assert len(values) == 10
    assert {m.headers["ce_id"] for m in got} == {str(n) for n in range(30)}
