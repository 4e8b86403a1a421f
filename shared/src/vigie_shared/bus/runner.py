"""The consumer loop every service runs: fetch, handle, dead-letter what keeps failing, then commit.

Offsets move only after each record's effect is durable (the handler returned) or the record is
safely on the dead-letter topic, so a crash anywhere redelivers rather than loses.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

import structlog

from vigie_shared.bus.port import Bus, BusUnavailable, Consumer, Message
from vigie_shared.events import Envelope, EnvelopeError, EventData
from vigie_shared.events.v1 import DEADLETTER_TOPIC
from vigie_shared.metrics import ServiceMetrics

log = structlog.get_logger(__name__)

MessageHandler = Callable[[Message], Awaitable[None]]
BatchHandler = Callable[[Sequence[Message]], Awaitable[None]]


class PoisonMessage(ValueError):
    """A record no retry can fix (bad envelope, invalid body): it goes straight to the dead letters."""


def decode(message: Message) -> Envelope[EventData]:
    try:
        return Envelope.decode(message.headers, message.value)
    except EnvelopeError as error:
        raise PoisonMessage(str(error)) from error


class ConsumerLoop:
    def __init__(
        self,
        bus: Bus,
        *,
        group: str,
        topics: Sequence[str],
        handler: MessageHandler,
        batch_handler: BatchHandler | None = None,
        metrics: ServiceMetrics | None = None,
        max_records: int = 64,
        fetch_timeout: float = 0.2,
        max_attempts: int = 3,
        retry_backoff: float = 0.2,
    ) -> None:
        self._bus = bus
        self.group = group
        self._topics = list(topics)
        self._handler = handler
        self._batch_handler = batch_handler
        self._metrics = metrics
        self._max_records = max_records
        self._fetch_timeout = fetch_timeout
        self._max_attempts = max_attempts
        self._retry_backoff = retry_backoff
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.running = False
        self.last_error: str | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"consumer:{self.group}")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=15)
            except TimeoutError:
                self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            consumer = self._bus.consumer(self.group, self._topics)
            try:
                await consumer.start()
                self._set_running(True)
                await self._drain(consumer)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.last_error = repr(error)
                log.exception("consumer_restarting", group=self.group)
                await asyncio.sleep(1.0)
            finally:
                self._set_running(False)
                try:
                    await consumer.stop()
                except Exception:
                    log.warning("consumer_stop_failed", group=self.group, exc_info=True)

    def _set_running(self, running: bool) -> None:
        self.running = running
        if self._metrics is not None:
            self._metrics.consumer_up.labels(group=self.group).set(1 if running else 0)

    async def _drain(self, consumer: Consumer) -> None:
        while not self._stopping.is_set():
            batch = await consumer.fetch(self._max_records, self._fetch_timeout)
            if not batch:
                continue
            started = time.perf_counter()
            await self._handle_batch(batch)
            await consumer.commit(batch)
            if self._metrics is not None:
                self._metrics.handle_latency.labels(group=self.group).observe(time.perf_counter() - started)

    async def _handle_batch(self, batch: Sequence[Message]) -> None:
        if self._batch_handler is not None:
            try:
                await self._batch_handler(batch)
            except BusUnavailable:
                raise
            except Exception:
                log.warning("batch_failed_retrying_singly", group=self.group, size=len(batch))
            else:
                self._count(batch, "ok")
                return
        for message in batch:
            await self._handle_one(message)

    async def _handle_one(self, message: Message) -> None:
        with structlog.contextvars.bound_contextvars(
            event_id=message.headers.get("ce_id"),
            correlation_id=message.headers.get("ce_correlationid"),
            topic=message.topic,
        ):
            error: Exception | None = None
            for attempt in range(1, self._max_attempts + 1):
                try:
                    await self._handler(message)
                except BusUnavailable:
                    raise
                except PoisonMessage as poison:
                    await self._dead_letter(message, poison, attempt)
                    return
                except Exception as failure:
                    error = failure
                    log.warning("handler_failed", attempt=attempt, error=repr(failure))
                    await asyncio.sleep(self._retry_backoff * attempt)
                else:
                    self._count([message], "ok")
                    return
            await self._dead_letter(message, error, self._max_attempts)

    async def _dead_letter(self, message: Message, error: Exception | None, attempts: int) -> None:
        headers = [(name, value.encode()) for name, value in message.headers.items()]
        headers += [
            ("vigie_error", repr(error)[:1000].encode()),
            ("vigie_source_topic", message.topic.encode()),
            ("vigie_source_offset", f"{message.partition}:{message.offset}".encode()),
            ("vigie_attempts", str(attempts).encode()),
            ("vigie_group", self.group.encode()),
        ]
        await self._bus.publish(DEADLETTER_TOPIC, message.key, message.value, headers)
        log.error("dead_lettered", error=repr(error), attempts=attempts)
        self._count([message], "deadlettered")
        if self._metrics is not None:
            self._metrics.deadlettered.labels(topic=message.topic).inc()

    def _count(self, messages: Sequence[Message], outcome: str) -> None:
        if self._metrics is None:
            return
        for message in messages:
            self._metrics.consumed.labels(topic=message.topic, outcome=outcome).inc()
