"""The append-only audit log, idempotent on the event id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from vigie_shared.db import SqlStore, UtcDateTime

from vigie_audit.domain.chain import GENESIS, ChainedEntry, entry_hash


class Base(DeclarativeBase):
    pass


class AuditRow(Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event_type: Mapped[str] = mapped_column(String(64), index=True)
    topic: Mapped[str] = mapped_column(String(128))
    record_key: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    source: Mapped[str] = mapped_column(String(128))
    time: Mapped[str] = mapped_column(String(40))
    correlation_id: Mapped[str] = mapped_column(String(64), index=True)
    community: Mapped[str | None] = mapped_column(String(512), nullable=True, index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())


@dataclass(frozen=True, slots=True)
class NewEntry:
    event_id: str
    event_type: str
    topic: str
    record_key: str | None
    source: str
    time: str
    correlation_id: str
    community: str | None
    body: dict[str, Any]
    recorded_at: datetime


def as_entry(row: AuditRow) -> ChainedEntry:
    return ChainedEntry(
        seq=row.seq,
        event_id=row.event_id,
        event_type=row.event_type,
        source=row.source,
        time=row.time,
        correlation_id=row.correlation_id,
        body=row.body,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


class AuditStore(SqlStore):
    metadata = Base.metadata
    migrations = "vigie_audit:migrations"
    version_table = "alembic_version_audit"

    async def append(self, *entries: NewEntry) -> int:
        """Appends each event once, in the given order, in one transaction; returns how many were new.

        An event already recorded (a redelivery) or repeated within the batch is skipped.
        """
        if not entries:
            return 0
        async with self._sessions.begin() as session:
            if self._engine.dialect.name == "postgresql":
                # Two writers reading the same tail would fork the chain; SQLite already serialises writes.
                await session.execute(text("SELECT pg_advisory_xact_lock(70432)"))
            ids = list(dict.fromkeys(entry.event_id for entry in entries))
            known = set(await session.scalars(select(AuditRow.event_id).where(AuditRow.event_id.in_(ids))))
            last = await session.scalar(select(AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1))
            prev = last or GENESIS
            appended = 0
            for entry in entries:
                if entry.event_id in known:
                    continue
                known.add(entry.event_id)
                digest = entry_hash(
                    prev,
                    event_id=entry.event_id,
                    event_type=entry.event_type,
                    source=entry.source,
                    time=entry.time,
                    correlation_id=entry.correlation_id,
                    body=entry.body,
                )
                session.add(
                    AuditRow(
                        event_id=entry.event_id,
                        event_type=entry.event_type,
                        topic=entry.topic,
                        record_key=entry.record_key,
                        source=entry.source,
                        time=entry.time,
                        correlation_id=entry.correlation_id,
                        community=entry.community,
                        body=entry.body,
                        prev_hash=prev,
                        hash=digest,
                        recorded_at=entry.recorded_at,
                    )
                )
                # Flushed one by one so the sequence numbers follow the chain's order.
                await session.flush()
                prev = digest
                appended += 1
        return appended

    async def events(
        self,
        *,
        correlation_id: str | None,
        event_type: str | None,
        communities: frozenset[str] | None,
        after: int,
        limit: int,
    ) -> list[AuditRow]:
        query = select(AuditRow).where(AuditRow.seq > after)
        if correlation_id is not None:
            query = query.where(AuditRow.correlation_id == correlation_id)
        if event_type is not None:
            query = query.where(AuditRow.event_type == event_type)
        if communities is not None:
            query = query.where(AuditRow.community.in_(communities))
        async with self._sessions() as session:
            result = await session.execute(query.order_by(AuditRow.seq).limit(limit))
            return list(result.scalars())

    async def stream(self, page: int = 1000) -> AsyncIterator[ChainedEntry]:
        after = 0
        while True:
            async with self._sessions() as session:
                result = await session.execute(
                    select(AuditRow).where(AuditRow.seq > after).order_by(AuditRow.seq).limit(page)
                )
                rows = list(result.scalars())
            if not rows:
                return
            for row in rows:
                yield as_entry(row)
            after = rows[-1].seq


__all__ = ["AuditRow", "AuditStore", "IntegrityError"]
