"""Kafka adapter on aiokafka: acks=all with an idempotent producer, manual commits after the work."""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import structlog
from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    CommitFailedError,
    IllegalStateError,
    InvalidProducerEpoch,
    KafkaError,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    TopicAlreadyExistsError,
    UnknownProducerId,
)

from vigie_shared.bus.port import (
    UNDECODABLE_HEADER,
    BusUnavailable,
    CommitRefused,
    Headers,
    Message,
    OutgoingRecord,
)

if TYPE_CHECKING:
    from vigie_shared.metrics import ServiceMetrics

log = structlog.get_logger(__name__)

# Keys and header values travel as str; bytes that are not UTF-8 survive the round trip through
# lone surrogates, so a dead letter carries exactly what arrived.
_LOSSLESS = "surrogateescape"


def _encode(text: str) -> bytes:
    return text.encode("utf-8", _LOSSLESS)


# Errors after which an idempotent producer never succeeds again (seen after a broker restart that
# lost batches in flight: every later send fails OutOfOrderSequenceNumber). Only a new producer, with
# a new producer id, gets out of it.
_PRODUCER_BROKEN = (OutOfOrderSequenceNumber, UnknownProducerId, InvalidProducerEpoch, ProducerFenced)


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
        replication_factor: int = 1,
        min_insync_replicas: int = 1,
        request_timeout_ms: int = 10_000,
        metrics: ServiceMetrics | None = None,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        # TLS and SASL settings (KafkaSecurity.client_options), given to every client opened here.
        self._options = dict(client_options or {})
        self._bootstrap = bootstrap
        self._client_id = client_id
        self._prefix = topic_prefix
        self._topics = [topic_prefix + t for t in topics]
        self._partitions = partitions
        self._replication_factor = replication_factor
        self._min_insync_replicas = min_insync_replicas
        self._request_timeout_ms = request_timeout_ms
        self._metrics = metrics
        self._producer: AIOKafkaProducer | None = None
        self._started = False
        self._renewing = asyncio.Lock()

    async def start(self) -> None:
        await self._ensure_topics()
        self._producer = await self._new_producer()
        self._started = True

    async def _new_producer(self) -> AIOKafkaProducer:
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
        return producer

    async def _live_producer(self) -> AIOKafkaProducer:
        """The producer, replaced first if the last one broke (BusUnavailable until that works)."""
        if self._producer is None:
            if not self._started:
                raise BusUnavailable("kafka producer is not started")
            async with self._renewing:
                if self._producer is None:
                    self._producer = await self._new_producer()
                    log.info("kafka_producer_renewed")
        return self._producer

    def _is_current(self, producer: AIOKafkaProducer) -> bool:
        # Another caller may have replaced it already: only the one that broke is dropped.
        return self._producer is producer

    async def _unless_broken(self, producer: AIOKafkaProducer, error: KafkaError) -> BusUnavailable:
        """The error to raise; drops the producer when it can never send again, so the next
        attempt starts a new one. What the old one left unacknowledged is sent again by the
        caller's retry: a duplicate record at worst, which consumers drop by event id."""
        if isinstance(error, _PRODUCER_BROKEN) and self._is_current(producer):
            self._producer = None
            log.warning("kafka_producer_broken", error=type(error).__name__)
            try:
                await producer.stop()
            except KafkaError as stopping:
                log.warning("kafka_producer_stop_failed", error=type(stopping).__name__)
        return BusUnavailable(f"kafka did not acknowledge: {error}")

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
                # acks=all waits for min.insync.replicas copies: with 3 replicas and 2 in sync, one
                # broker can be lost without refusing writes or losing an acknowledged record.
                configs = {"min.insync.replicas": str(self._min_insync_replicas)}
                response = await admin.create_topics(
                    [
                        NewTopic(
                            t,
                            num_partitions=self._partitions,
                            replication_factor=self._replication_factor,
                            topic_configs=configs,
                        )
                        for t in missing
                    ]
                )
                # The broker answers per topic instead of failing the request: a replication
                # factor the cluster cannot hold would otherwise pass unnoticed.
                refused = [
                    f"{topic}: {message or code}"
                    for topic, code, *rest in response.topic_errors
                    for message in [rest[0] if rest else None]
                    if code not in (0, TopicAlreadyExistsError.errno)
                ]
                if refused:
                    raise BusUnavailable(f"kafka refused to create topics: {'; '.join(refused)}")
        except KafkaError as error:
            raise BusUnavailable(f"kafka admin failed: {error}") from error
        finally:
            await admin.close()

    async def close(self) -> None:
        self._started = False
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish(self, topic: str, key: str | None, value: bytes, headers: Headers) -> None:
        producer = await self._live_producer()
        try:
            await producer.send_and_wait(
                self._prefix + topic,
                value,
                key=_encode(key) if key is not None else None,
                headers=list(headers),
            )
        except KafkaError as error:
            raise await self._unless_broken(producer, error) from error

    async def publish_many(self, records: Sequence[OutgoingRecord]) -> None:
        producer = await self._live_producer()
        try:
            # Queued in order, then awaited together: the idempotent producer keeps each partition's order.
            pending = [
                await producer.send(
                    self._prefix + r.topic,
                    r.value,
                    key=_encode(r.key) if r.key is not None else None,
                    headers=list(r.headers),
                )
                for r in records
            ]
            await asyncio.gather(*pending)
        except KafkaError as error:
            raise await self._unless_broken(producer, error) from error

    def consumer(self, group: str, topics: Sequence[str]) -> KafkaConsumer:
        return KafkaConsumer(
            self._bootstrap,
            group,
            [self._prefix + t for t in topics],
            self._prefix,
            self._client_id,
            metrics=self._metrics,
            client_options=self._options,
        )

    async def check(self) -> str | None:
        try:
            producer = await self._live_producer()
        except BusUnavailable as error:
            return str(error)
        try:
            await asyncio.wait_for(producer.client.fetch_all_metadata(), timeout=5)
        except (KafkaError, TimeoutError) as error:
            return f"kafka metadata unavailable: {error!r}"
        return None


def _causal_order(record: ConsumerRecord[bytes, bytes]) -> tuple[int, bytes]:
    created = next((value for name, value in record.headers if name == "ce_time"), b"")
    return record.timestamp, created


def _to_message(record: ConsumerRecord[bytes, bytes], prefix: str) -> Message:
    bad: list[str] = []

    def text(raw: bytes, what: str) -> str:
        try:
            return raw.decode()
        except UnicodeDecodeError:
            bad.append(what)
            return raw.decode("utf-8", _LOSSLESS)

    key = text(record.key, "key") if record.key is not None else None
    headers: dict[str, str] = {}
    for name, raw in record.headers:
        headers[name] = text(raw, f"header {name.encode('ascii', 'backslashreplace').decode()}")
    if bad:
        headers[UNDECODABLE_HEADER] = "not UTF-8: " + ", ".join(bad)
    return Message(
        topic=record.topic.removeprefix(prefix),
        key=key,
        value=record.value or b"",
        headers=headers,
        partition=record.partition,
        offset=record.offset,
    )


class KafkaConsumer:
    # How long a revocation waits for the batch in hand to be handled and committed: within the
    # group's rebalance timeout, so a slow batch costs a redelivery rather than the whole group.
    revoke_wait_seconds = 10.0

    def __init__(
        self,
        bootstrap: str,
        group: str,
        topics: list[str],
        prefix: str,
        client_id: str,
        *,
        metrics: ServiceMetrics | None = None,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._prefix = prefix
        self._group = group
        self._topics = topics
        self._metrics = metrics
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group,
            client_id=client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            # How long the group waits for this member to rejoin: room for the revocation below to
            # let the batch in hand finish and commit.
            rebalance_timeout_ms=int(self.revoke_wait_seconds * 1000) + 20_000,
            **(client_options or {}),
        )
        # Offsets of the batch handed out and not committed yet; set when it is settled.
        self._in_flight: dict[TopicPartition, int] = {}
        self._settled = asyncio.Event()
        self._settled.set()
        # A batch finished while the group was rebalancing: the revocation commits it, then answers.
        self._revoking = False
        self._unwritten: dict[TopicPartition, int] = {}
        self._handoff: asyncio.Future[None] | None = None
        self._written_on_revoke: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        try:
            self._consumer.subscribe(self._topics, listener=_CommitOnRevoke(self))
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
        out = [_to_message(record, self._prefix) for record in merged]
        if out:
            self._in_flight = _next_offsets(out, self._prefix)
            self._settled.clear()
        return out

    async def commit(self, messages: Sequence[Message]) -> None:
        offsets = _next_offsets(messages, self._prefix)
        if not offsets:
            return
        # Handled, so a revocation may write these from now on, whichever of the two gets there first.
        for tp, offset in offsets.items():
            self._unwritten[tp] = max(self._unwritten.get(tp, 0), offset)
        self._in_flight = {}
        self._settled.set()
        if self._revoking:
            await self._hand_to_revocation()
            return
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as error:
            if all(self._written_on_revoke.get(tp, -1) >= offset for tp, offset in offsets.items()):
                return  # the revocation committed them while this commit waited for the rebalance
            self._forget(offsets)
            # The partitions moved to another member, which redelivers from the last commit; the
            # loop counts it as refused.
            raise CommitRefused(f"kafka commit refused: {error}") from error
        except KafkaError:
            self._count_failure("error")
            raise
        self._forget(offsets)

    def _forget(self, offsets: dict[TopicPartition, int]) -> None:
        for tp, offset in offsets.items():
            if self._unwritten.get(tp, -1) <= offset:
                self._unwritten.pop(tp, None)

    async def _hand_to_revocation(self) -> None:
        # A commit from here would wait for the rebalance, which waits for this batch: the
        # revocation, which may still commit for this member, writes it and answers.
        written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._handoff = written
        await written

    async def on_revoked(self, revoked: set[TopicPartition]) -> None:
        """Before the group moves partitions: let the batch in hand finish, then commit it here."""
        self._revoking = True
        try:
            if revoked & set(self._in_flight):
                try:
                    await asyncio.wait_for(self._settled.wait(), self.revoke_wait_seconds)
                except TimeoutError:
                    # Its commit will be refused afterwards and the new owner redelivers it.
                    log.warning("kafka_revoke_without_commit", group=self._group, partitions=len(revoked))
            offsets = {tp: offset for tp, offset in self._unwritten.items() if tp in revoked}
            outcome: BaseException | None = None
            if offsets:
                try:
                    await self._consumer.commit(offsets)
                except KafkaError as error:
                    self._count_failure("rebalance")
                    log.warning("kafka_commit_on_revoke_failed", group=self._group, error=str(error))
                    outcome = CommitRefused(f"kafka commit on rebalance failed: {error}")
                else:
                    self._written_on_revoke.update(offsets)
                    log.info("kafka_committed_on_revoke", group=self._group, partitions=len(offsets))
                self._forget(offsets)
            handoff, self._handoff = self._handoff, None
            if handoff is not None and not handoff.done():
                if outcome is None:
                    handoff.set_result(None)
                else:
                    handoff.set_exception(outcome)
        finally:
            self._revoking = False

    def _count_failure(self, reason: str) -> None:
        if self._metrics is not None:
            self._metrics.commit_failures.labels(group=self._group, reason=reason).inc()


def _next_offsets(messages: Sequence[Message], prefix: str) -> dict[TopicPartition, int]:
    offsets: dict[TopicPartition, int] = {}
    for message in messages:
        tp = TopicPartition(prefix + message.topic, message.partition)
        offsets[tp] = max(offsets.get(tp, 0), message.offset + 1)
    return offsets


class _CommitOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, consumer: KafkaConsumer) -> None:
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._consumer.on_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        return None
