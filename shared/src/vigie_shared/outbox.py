"""The transactional outbox: a state change and the events it announces commit together; a relay
publishes them afterwards.

Publishing from inside a transaction lets store and bus disagree (the broker acknowledges, then the
commit fails; or the acknowledgement times out after the write). Here the events are rows of the
service's own database, written in the same transaction as the change, so they exist exactly when
the change does. The relay reads them in write order and publishes with their deterministic ids;
after a crash it may publish a row twice, which idempotent consumers absorb, but never loses one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from prometheus_client import Counter, Gauge
from sqlalchemy import JSON, BigInteger, Integer, LargeBinary, String, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from vigie_shared.bus.port import Bus, OutgoingRecord
from vigie_shared.db import UtcDateTime
from vigie_shared.events import Envelope
from vigie_shared.events.v1 import TOPICS, Keyed
from vigie_shared.metrics import ServiceMetrics
from vigie_shared.worker import BackgroundWorker

log = structlog.get_logger(__name__)


class OutboxColumns:
    """Mixed into a service's own declarative base: `class OutboxRow(OutboxColumns, Base)`."""

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    topic: Mapped[str] = mapped_column(String(255))
    # Keys are `platform:community:thread`, whose parts may each be 512 characters long.
    record_key: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[list[list[str]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)


def _now() -> datetime:
    return datetime.now(UTC)


async def stage(session: AsyncSession, model: type[OutboxColumns], events: Sequence[Envelope[Keyed]]) -> None:
    """Adds the events to the outbox inside the caller's transaction; an id already there is kept as is.

    A deterministic id staged twice is the same event announced twice (a retried request), never two
    different outcomes: the state transitions that stage events are first-wins.
    """
    if not events:
        return
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    bind = session.get_bind()
    insert = pg_insert if bind.dialect.name == "postgresql" else sqlite_insert
    created = _now()
    for event in events:
        values: dict[str, Any] = {
            "event_id": event.id,
            "topic": TOPICS[event.type],
            "record_key": event.data.key(),
            "value": event.body(),
            "headers": [[name, raw.decode()] for name, raw in event.headers()],
            "created_at": created,
        }
        await session.execute(
            insert(model).values(**values).on_conflict_do_nothing(index_elements=["event_id"])
        )


class OutboxRelay(BackgroundWorker):
    """Publishes staged events in write order, wakes on `notify()` and polls for other writers' rows."""

    name = "outbox relay"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        model: type[OutboxColumns],
        bus: Bus,
        *,
        metrics: ServiceMetrics | None = None,
        batch_size: int = 256,
        poll_interval: float = 0.5,
        keep_published: timedelta = timedelta(hours=1),
        max_backoff: float = 30.0,
    ) -> None:
        super().__init__(poll_interval=poll_interval, base_backoff=0.2, max_backoff=max_backoff)
        self._sessions = sessions
        self._model = model
        self._bus = bus
        self._batch_size = batch_size
        self._keep_published = keep_published
        self._last_purge = 0.0
        self._metrics = _OutboxMetrics(metrics) if metrics is not None else None

    async def work_round(self) -> bool:
        published = await self.flush()
        await self._purge()
        return published >= self._batch_size

    async def after_round(self, *, failed: bool) -> None:
        await self._observe()

    async def flush(self) -> int:
        """Publishes one batch of unpublished rows; returns how many."""
        model = self._model
        async with self._sessions.begin() as session:
            query = (
                select(model)
                .where(model.published_at.is_(None))
                .order_by(model.seq)
                .limit(self._batch_size)
                # Replicas on PostgreSQL take disjoint batches; SQLite has one writer anyway.
                .with_for_update(skip_locked=True)
            )
            rows = list((await session.execute(query)).scalars())
            if rows:
                records = [
                    OutgoingRecord(
                        row.topic,
                        row.record_key,
                        row.value,
                        [(name, value.encode()) for name, value in row.headers],
                    )
                    for row in rows
                ]
                await self._bus.publish_many(records)
                await session.execute(
                    update(model).where(model.seq.in_([row.seq for row in rows])).values(published_at=_now())
                )
        if rows and self._metrics is not None:
            for row in rows:
                self._metrics.published.labels(topic=row.topic).inc()
        return len(rows)

    async def _observe(self) -> None:
        """Depth and age of what waits, kept current during an outage too: that is when they matter."""
        if self._metrics is None:
            return
        model = self._model
        try:
            async with self._sessions() as session:
                pending, oldest = (
                    await session.execute(
                        select(func.count(), func.min(model.created_at)).where(model.published_at.is_(None))
                    )
                ).one()
        except Exception:
            return  # the database is down too: the last figures stand

        self._metrics.depth.set(pending)
        age = 0.0
        if oldest is not None:
            if oldest.tzinfo is None:
                oldest = oldest.replace(tzinfo=UTC)
            age = max(0.0, (_now() - oldest).total_seconds())
        self._metrics.oldest_age.set(age)

    async def _purge(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_purge < 60:
            return
        self._last_purge = loop.time()
        model = self._model
        async with self._sessions.begin() as session:
            await session.execute(
                delete(model).where(
                    model.published_at.is_not(None), model.published_at < _now() - self._keep_published
                )
            )


class _OutboxMetrics:
    def __init__(self, metrics: ServiceMetrics) -> None:
        prefix = f"vigie_{metrics.service}_outbox"
        registry = metrics.registry
        self.depth = Gauge(f"{prefix}_pending", "Staged events not yet published", registry=registry)
        self.oldest_age = Gauge(
            f"{prefix}_oldest_age_seconds", "Age of the oldest unpublished event", registry=registry
        )
        self.published = Counter(
            f"{prefix}_published", "Events the relay published", ["topic"], registry=registry
        )
