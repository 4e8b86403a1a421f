"""The consumer loop every service runs: fetch, handle, dead-letter what is bad, then commit.

Offsets move only after each record's effect is durable (the handler returned) or the record is
safely on the dead-letter topic, so a crash anywhere redelivers rather than loses.

Two kinds of failure are told apart. A bad record (broken envelope, invalid body, a handler's
refusal) goes to the dead letters, after a few quick retries when the cause is unknown. A failing
dependency (database, bus, platform, network: see `vigie_shared.errors`) is no fault of the record:
the loop pauses on that record with capped exponential backoff and jitter, commits nothing past it,
reports itself degraded to /readyz, and carries on by itself once the dependency answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

import structlog
from pydantic import ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_exponential_jitter,
)

from vigie_shared.bus.port import UNDECODABLE_HEADER, Bus, CommitRefused, Consumer, Message
from vigie_shared.errors import dependency_failure
from vigie_shared.events import Envelope, EnvelopeError, EventData
from vigie_shared.events.v1 import DEADLETTER_TOPIC
from vigie_shared.metrics import ServiceMetrics

log = structlog.get_logger(__name__)

MessageHandler = Callable[[Message], Awaitable[None]]
BatchHandler = Callable[[Sequence[Message]], Awaitable[None]]
T = TypeVar("T")


class PoisonMessage(ValueError):
    """A record no retry can fix (bad envelope, invalid body, a handler's refusal): it goes straight
    to the dead letters."""


def decode(message: Message) -> Envelope[EventData]:
    try:
        return Envelope.decode(message.headers, message.value)
    except EnvelopeError as error:
        raise PoisonMessage(str(error)) from error


def is_bad_record(error: BaseException) -> bool:
    """Errors that are about the record itself: retrying the same bytes cannot help."""
    return isinstance(error, PoisonMessage | EnvelopeError | ValidationError)


def _is_dependency(error: BaseException) -> bool:
    return dependency_failure(error) is not None


def describe(error: BaseException) -> str:
    """The error for logs and dead-letter headers, without the input a validation error quotes."""
    if isinstance(error, ValidationError):
        where = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['type']}" for item in error.errors()[:10]
        )
        return f"ValidationError({error.error_count()} errors: {where})"[:1000]
    return repr(error)[:1000]


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
        pause_initial: float = 0.5,
        pause_max: float = 30.0,
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
        # Jitter up to the initial wait: replicas that lost the same database do not retry in step.
        self._pause_wait = wait_exponential_jitter(
            multiplier=pause_initial, max=pause_max, jitter=pause_initial
        )
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.running = False
        self.last_error: str | None = None
        # Set while waiting for a dependency: what failed, since when (monotonic).
        self.paused: str | None = None
        self._paused_since: float | None = None

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

    def degraded(self) -> str | None:
        """Why the loop is not keeping up, for /readyz; None when it is."""
        if self.paused is not None and self._paused_since is not None:
            waited = time.monotonic() - self._paused_since
            return f"{self.group} paused {waited:.0f}s waiting for {self.paused}"
        if not self.running:
            return f"{self.group} not running" + (f" ({self.last_error})" if self.last_error else "")
        return None

    # The loop and its restarts

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                # A fresh retry state per streak: after a session that made progress, the next
                # failure starts again from the shortest wait.
                async for attempt in self._retrying(retry_if_exception(lambda _: True), self._restarting):
                    with attempt:
                        await self._session()
            except asyncio.CancelledError:
                raise
            except Exception:
                if not self._stopping.is_set():
                    log.exception("consumer_loop_failed", group=self.group)

    async def _session(self) -> None:
        """One consumer from start to stop. Raises when it failed before handling anything."""
        consumer = self._bus.consumer(self.group, self._topics)
        progressed = False
        try:
            await consumer.start()
            self._set_running(True)
            while not self._stopping.is_set():
                if await self._step(consumer):
                    progressed = True
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.last_error = repr(error)[:300]
            if not progressed:
                raise
            log.warning("consumer_restarting", group=self.group, error=self.last_error)
            if self._metrics is not None:
                self._metrics.consumer_restarts.labels(group=self.group).inc()
        finally:
            self._set_running(False)
            try:
                await consumer.stop()
            except Exception:
                log.warning("consumer_stop_failed", group=self.group, exc_info=True)

    def _restarting(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        self.last_error = repr(error)[:300]
        log.warning(
            "consumer_restarting", group=self.group, error=self.last_error, attempt=state.attempt_number
        )
        if self._metrics is not None:
            self._metrics.consumer_restarts.labels(group=self.group).inc()

    def _set_running(self, running: bool) -> None:
        self.running = running
        if self._metrics is not None:
            self._metrics.consumer_up.labels(group=self.group).set(1 if running else 0)

    async def _step(self, consumer: Consumer) -> bool:
        batch = await self.until_available(lambda: consumer.fetch(self._max_records, self._fetch_timeout))
        if not batch:
            return False
        started = time.perf_counter()
        await self._handle_batch(batch)
        try:
            await self.until_available(lambda: consumer.commit(batch))
        except CommitRefused as refused:
            # Whoever owns the records now redelivers them; handling them again here would only
            # race that member, so the batch is dropped and the next fetch starts from the group.
            log.warning("commit_refused", group=self.group, error=str(refused), size=len(batch))
            if self._metrics is not None:
                self._metrics.commit_failures.labels(group=self.group, reason="refused").inc()
            return True
        if self._metrics is not None:
            self._metrics.handle_latency.labels(group=self.group).observe(time.perf_counter() - started)
        return True

    # Waiting for dependencies

    def _retrying(
        self,
        retry: retry_if_exception,
        before_sleep: Callable[[RetryCallState], None],
    ) -> AsyncRetrying:
        return AsyncRetrying(
            retry=retry,
            wait=self._pause_wait,
            stop=lambda _: self._stopping.is_set(),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )

    async def _sleep(self, seconds: float) -> None:
        # Woken early by stop(): a paused consumer must not hold a shutdown for 30 seconds.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def until_available(self, work: Callable[[], Awaitable[T]]) -> T:
        """Runs `work`, and again after a backoff for as long as a dependency is what fails it.

        Other errors are raised at once. On stop, the last dependency error is raised.
        """
        async for attempt in self._retrying(retry_if_exception(_is_dependency), self._pausing):
            with attempt:
                result = await work()
        self._resumed()
        return result

    def _pausing(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        kind = dependency_failure(error) if error is not None else None
        reason = f"{kind or 'dependency'} unavailable ({type(error).__name__})"
        if self.paused is None:
            self._paused_since = time.monotonic()
            log.warning("consumer_paused", group=self.group, dependency=kind, error=repr(error)[:300])
        self.paused = reason
        if self._metrics is not None:
            self._metrics.consumer_paused.labels(group=self.group).set(1)
            self._metrics.dependency_failures.labels(group=self.group, dependency=kind or "other").inc()

    def _resumed(self) -> None:
        if self.paused is None:
            return
        waited = time.monotonic() - (self._paused_since or time.monotonic())
        log.info("consumer_resumed", group=self.group, paused_seconds=round(waited, 3))
        self.paused = None
        self._paused_since = None
        if self._metrics is not None:
            self._metrics.consumer_paused.labels(group=self.group).set(0)
            self._metrics.consumer_paused_seconds.labels(group=self.group).inc(waited)

    # Handling

    async def _handle_batch(self, batch: Sequence[Message]) -> None:
        undecodable = [m for m in batch if UNDECODABLE_HEADER in m.headers]
        if undecodable:
            # The adapter could not read its key or headers: no handler could either, and retrying
            # would stop the partition on it for good.
            for message in undecodable:
                await self._dead_letter(message, PoisonMessage(message.headers[UNDECODABLE_HEADER]), 1)
            batch = [m for m in batch if UNDECODABLE_HEADER not in m.headers]
            if not batch:
                return
        if self._batch_handler is not None:
            batch_handler = self._batch_handler
            try:
                await self.until_available(lambda: batch_handler(batch))
            except Exception as error:
                if _is_dependency(error):
                    raise  # only when stopping: nothing is committed
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
            # An error that is neither a known dependency nor a known bad record gets a few quick
            # tries: it may be a race; if it persists it is taken to be about this record.
            retrying = AsyncRetrying(
                retry=retry_if_exception(lambda e: not is_bad_record(e) and not _is_dependency(e)),
                stop=stop_after_attempt(self._max_attempts),
                wait=wait_exponential(multiplier=self._retry_backoff, max=self._retry_backoff * 10),
                before_sleep=self._handler_failed,
                reraise=True,
            )
            try:
                async for attempt in retrying:
                    with attempt:
                        await self.until_available(lambda: self._handler(message))
            except Exception as error:
                if _is_dependency(error):
                    raise  # only when stopping
                attempts = 1 if is_bad_record(error) else self._max_attempts
                await self._dead_letter(message, error, attempts)
            else:
                self._count([message], "ok")

    def _handler_failed(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "handler_failed",
            group=self.group,
            attempt=state.attempt_number,
            error=describe(error)[:300] if error else None,
        )

    async def _dead_letter(self, message: Message, error: BaseException, attempts: int) -> None:
        # surrogateescape: header bytes that were not UTF-8 go out exactly as they came in.
        headers = [
            (name, value.encode("utf-8", "surrogateescape")) for name, value in message.headers.items()
        ]
        headers += [
            ("vigie_error", describe(error).encode()),
            ("vigie_source_topic", message.topic.encode()),
            ("vigie_source_offset", f"{message.partition}:{message.offset}".encode()),
            ("vigie_attempts", str(attempts).encode()),
            ("vigie_group", self.group.encode()),
            ("vigie_deadlettered_at", datetime.now(UTC).isoformat().encode()),
        ]
        await self.until_available(
            lambda: self._bus.publish(DEADLETTER_TOPIC, message.key, message.value, headers)
        )
        log.error("dead_lettered", group=self.group, error=describe(error)[:300], attempts=attempts)
        self._count([message], "deadlettered")
        if self._metrics is not None:
            self._metrics.deadlettered.labels(topic=message.topic).inc()

    def _count(self, messages: Sequence[Message], outcome: str) -> None:
        if self._metrics is None:
            return
        for message in messages:
            self._metrics.consumed.labels(topic=message.topic, outcome=outcome).inc()
