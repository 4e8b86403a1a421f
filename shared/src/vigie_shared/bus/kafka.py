"""Kafka adapter on aiokafka: acks=all with an idempotent producer, manual commits after the work."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    CommitFailedError,
    IllegalStateError,
    KafkaError,
    TopicAlreadyExistsError,
)

from vigie_shared.bus.port import BusUnavailable, Headers, Message, OutgoingRecord

log = structlog.get_logger(__name__)


def bootstrap_from_url(url: str) -> str:
    if not url.startswith("kafka://"):
        raise ValueError(f"not a kafka bus url: {url!r} (expected kafka://host:port[,host:port])")
    return url.removeprefix("kafka://").rstrip("/")


class KafkaBus:
    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str,
        topic_prefix: str = "",
        topics: Sequence[str] = (),
        partitions: int = 3,
        request_timeout_ms: int = 10_000,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        # TLS and SASL settings (KafkaSecurity.client_options), given to every client opened here.
        self._options = dict(client_options or {})
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._prefix = topic_prefix
        self._topics = [topic_prefix + t for t in topics]
        self._partitions = partitions
        self._request_timeout_ms = request_timeout_ms
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        await self._ensure_topics()
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            acks="all",
            enable_idempotence=True,
            request_timeout_ms=self._request_timeout_ms,
            linger_ms=0,
            **self._options,
        )
        try:
            await producer.start()
        except KafkaError as error:
            await producer.stop()
            raise BusUnavailable(f"kafka producer cannot start: {error}") from error
        self._producer = producer

    async def _ensure_topics(self) -> None:
        # Created up front with several partitions: auto-creation would race the first consumer.
        if not self._topics:
            return
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self._bootstrap,
            client_id=f"{self._client_id}-admin",
            request_timeout_ms=self._request_timeout_ms,
            **self._options,
        )
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [t for t in self._topics if t not in existing]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(
                        [NewTopic(t, num_partitions=self._partitions, replication_factor=1) for t in missing]
                    )
        except KafkaError as error:
            raise BusUnavailable(f"kafka admin failed: {error}") from error
        finally:
            await admin.close()

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish(self, topic: str, key: str | None, value: bytes, headers: Headers) -> None:
        if self._producer is None:
            raise BusUnavailable("kafka producer is not started")
        try:
            await self._producer.send_and_wait(
                self._prefix + topic,
                value,
                key=key.encode() if key is not None else None,
                headers=list(headers),
            )
        except KafkaError as error:
            raise BusUnavailable(f"kafka did not acknowledge: {error}") from error

    async def publish_many(self, records: Sequence[OutgoingRecord]) -> None:
        if self._producer is None:
            raise BusUnavailable("kafka producer is not started")
        try:
            # Queued in order, then awaited together: the idempotent producer keeps each partition's order.
            pending = [
                await self._producer.send(
                    self._prefix + r.topic,
                    r.value,
                    key=r.key.encode() if r.key is not None else None,
                    headers=list(r.headers),
                )
                for r in records
            ]
            await asyncio.gather(*pending)
        except KafkaError as error:
            raise BusUnavailable(f"kafka did not acknowledge: {error}") from error

    def consumer(self, group: str, topics: Sequence[str]) -> KafkaConsumer:
        return KafkaConsumer(
            self._bootstrap,
            group,
            [self._prefix + t for t in topics],
            self._prefix,
            self._client_id,
            client_options=self._options,
        )

    async def check(self) -> str | None:
        if self._producer is None:
            return "kafka producer is not started"
        try:
            await asyncio.wait_for(self._producer.client.fetch_all_metadata(), timeout=5)
        except (KafkaError, TimeoutError) as error:
            return f"kafka metadata unavailable: {error!r}"
        return None


def _causal_order(record: ConsumerRecord[bytes, bytes]) -> tuple[int, bytes]:
    created = next((value for name, value in record.headers if name == "ce_time"), b"")
    return record.timestamp, created


class KafkaConsumer:
    def __init__(
        self,
        bootstrap: str,
        group: str,
        topics: list[str],
        prefix: str,
        client_id: str,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._prefix = prefix
        self._consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap,
            group_id=group,
            client_id=client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            **(client_options or {}),
        )

    async def start(self) -> None:
        try:
            await self._consumer.start()
        except KafkaError as error:
            await self._consumer.stop()
            raise BusUnavailable(f"kafka consumer cannot start: {error}") from error

    async def stop(self) -> None:
        await self._consumer.stop()

    async def fetch(self, max_records: int, timeout: float) -> list[Message]:
        batches = await self._consumer.getmany(timeout_ms=int(timeout * 1000), max_records=max_records)
        # Partitions are merged by record timestamp, each kept in its own order: a service reading several
        # topics (audit) then sees a cause before its effect even when both arrive in one fetch.
        # Broker timestamps have millisecond resolution; the envelope's ce_time breaks ties.
        merged = heapq.merge(*batches.values(), key=_causal_order)
        out: list[Message] = []
        for record in merged:
            out.append(
                Message(
                    topic=record.topic.removeprefix(self._prefix),
                    key=record.key.decode() if record.key is not None else None,
                    value=record.value or b"",
                    headers={name: raw.decode() for name, raw in record.headers},
                    partition=record.partition,
                    offset=record.offset,
                )
            )
        return out

    async def commit(self, messages: Sequence[Message]) -> None:
        offsets: dict[TopicPartition, int] = {}
        for message in messages:
            tp = TopicPartition(self._prefix + message.topic, message.partition)
            offsets[tp] = max(offsets.get(tp, 0), message.offset + 1)
        if not offsets:
            return
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as error:
            # The partitions moved to another member; it will redeliver and idempotent handlers absorb it.
            log.warning("kafka_commit_rejected", error=str(error), partitions=len(offsets))
