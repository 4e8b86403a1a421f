"""A failing dependency pauses the consumer on its record; only bad records reach the dead letters."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Sequence

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError
from pydantic import BaseModel
from sqlalchemy import exc as sa
from vigie_shared.bus import Bus, BusUnavailable, ConsumerLoop, Message, PoisonMessage, decode, open_bus
from vigie_shared.errors import DependencyUnavailable, dependency_failure
from vigie_shared.events.v1 import DEADLETTER_TOPIC
from vigie_shared.metrics import ServiceMetrics

from tests.shared.test_bus_contract import RECEIVED, collect, event, publish


@pytest.fixture
async def bus(bus_url: str, topic_prefix: str) -> AsyncIterator[Bus]:
    bus = open_bus(bus_url, client_id="pause-test", topic_prefix=topic_prefix)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()


def _chained() -> BaseException:
    try:
        try:
            raise ConnectionResetError("peer went away")
        except ConnectionResetError as low:
            raise RuntimeError("store write failed") from low
    except RuntimeError as high:
        return high


class _Shape(BaseModel):
    n: int


def _validation_error() -> BaseException:
    try:
        _Shape.model_validate({"n": "not a number"})
    except Exception as error:
        return error
    raise AssertionError("unreachable")


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (DependencyUnavailable("platform 503", dependency="platform"), "platform"),
        (BusUnavailable("no ack"), "bus"),
        (sa.OperationalError("SELECT 1", {}, Exception("server closed the connection")), "database"),
        (sa.InterfaceError("SELECT 1", {}, Exception("closed")), "database"),
        (sa.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True), "database"),
        (asyncpg.ConnectionDoesNotExistError("closed mid-query"), "database"),
        (asyncpg.CannotConnectNowError("starting up"), "database"),
        (sqlite3.OperationalError("database is locked"), "database"),
        (sqlite3.IntegrityError("UNIQUE constraint failed"), None),
        (ConnectionRefusedError(111, "refused"), "network"),
        (TimeoutError(), "network"),
        (KafkaConnectionError(), "bus"),
        (_chained(), "network"),
        (ValueError("bad value"), None),
        (PoisonMessage("broken envelope"), None),
        (KeyError("text"), None),
        (sa.IntegrityError("INSERT", {}, Exception("duplicate")), None),
        (sa.DBAPIError("SELECT", {}, Exception("syntax"), connection_invalidated=False), None),
        (MessageSizeTooLargeError(), None),
        (_validation_error(), None),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_transient_failures_are_told_from_bad_records(error: BaseException, kind: str | None) -> None:
    assert dependency_failure(error) == kind


async def _until(condition: Callable[[], bool], timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def _value(metrics: ServiceMetrics, name: str, **labels: str) -> float:
    return float(metrics.registry.get_sample_value(f"vigie_pause_{name}", labels) or 0.0)


async def test_a_dependency_outage_pauses_on_the_record_and_resumes_by_itself(bus: Bus) -> None:
    for n in range(3):
        await publish(bus, event("p", n))
    down = True
    handled: list[str] = []
    attempts = 0

    async def handler(message: Message) -> None:
        nonlocal attempts
        text = decode(message).data.text  # type: ignore[attr-defined]
        if text == "comment 1" and down:
            attempts += 1
            raise DependencyUnavailable("database is restarting", dependency="database")
        handled.append(text)

    metrics = ServiceMetrics("pause")
    loop = ConsumerLoop(
        bus,
        group="g-pause",
        topics=[RECEIVED],
        handler=handler,
        metrics=metrics,
        max_attempts=2,
        retry_backoff=0.01,
        pause_initial=0.02,
        pause_max=0.1,
    )
    loop.start()
    try:
        # Far more tries than max_attempts: a dependency failure never counts towards dead-lettering.
        await _until(lambda: attempts >= 8)
        assert handled == ["comment 0"]
        assert loop.paused is not None
        assert "database" in (loop.degraded() or "")
        assert _value(metrics, "bus_consumer_paused", group="g-pause") == 1
        assert _value(metrics, "bus_dependency_failures_total", group="g-pause", dependency="database") >= 7
        down = False
        await _until(lambda: len(handled) == 3)
        await _until(lambda: loop.paused is None)
        assert handled == ["comment 0", "comment 1", "comment 2"]
        assert loop.degraded() is None
        assert _value(metrics, "bus_consumer_paused", group="g-pause") == 0
        assert _value(metrics, "bus_consumer_paused_seconds_total", group="g-pause") > 0
    finally:
        await loop.stop()
    assert _value(metrics, "bus_deadlettered_total", topic=RECEIVED) == 0
    assert await collect(bus, "g-pause-dlq", 1, topics=[DEADLETTER_TOPIC], deadline=2) == []
    assert await collect(bus, "g-pause", 1, deadline=2) == []  # all three committed once handled


async def test_a_consumer_stopped_while_paused_has_committed_nothing_past_the_record(bus: Bus) -> None:
    for n in range(3):
        await publish(bus, event("s", n))
    failures = 0

    async def batch_handler(messages: Sequence[Message]) -> None:
        nonlocal failures
        failures += 1
        # What SQLAlchemy raises when PostgreSQL goes away mid-transaction.
        raise sa.OperationalError("INSERT", {}, ConnectionResetError("connection reset"))

    async def handler(message: Message) -> None:
        raise AssertionError("a dependency failure must not fall back to one by one")

    loop = ConsumerLoop(
        bus,
        group="g-held",
        topics=[RECEIVED],
        handler=handler,
        batch_handler=batch_handler,
        pause_initial=0.02,
        pause_max=0.05,
    )
    loop.start()
    await _until(lambda: failures >= 5)
    stopping = time.monotonic()
    await loop.stop()
    assert time.monotonic() - stopping < 5  # a pause does not hold a shutdown
    again = await collect(bus, "g-held", 3)
    assert [decode(m).data.text for m in again] == ["comment 0", "comment 1", "comment 2"]  # type: ignore[attr-defined]
    assert await collect(bus, "g-held-dlq", 1, topics=[DEADLETTER_TOPIC], deadline=2) == []


async def test_a_handler_refusal_is_dead_lettered_at_once_and_says_why(bus: Bus) -> None:
    await publish(bus, event("r", 0))
    await publish(bus, event("r", 1))
    calls = 0
    done = asyncio.Event()

    async def handler(message: Message) -> None:
        nonlocal calls
        text = decode(message).data.text  # type: ignore[attr-defined]
        if text == "comment 0":
            calls += 1
            _Shape.model_validate({"n": "secret comment words"})
        done.set()

    metrics = ServiceMetrics("pause")
    loop = ConsumerLoop(bus, group="g-refuse", topics=[RECEIVED], handler=handler, metrics=metrics)
    loop.start()
    try:
        await asyncio.wait_for(done.wait(), 30)
    finally:
        await loop.stop()
    assert calls == 1
    dead = await collect(bus, "g-refuse-dlq", 1, topics=[DEADLETTER_TOPIC])
    assert len(dead) == 1
    headers = dead[0].headers
    assert headers["vigie_attempts"] == "1"
    assert "ValidationError" in headers["vigie_error"]
    assert "secret comment words" not in headers["vigie_error"]
    assert headers["vigie_group"] == "g-refuse"
    assert headers["vigie_deadlettered_at"].startswith("20")
