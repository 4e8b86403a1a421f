"""Idempotency keys and poller cursors in the service database, shared by every ingest replica.

Used when VIGIE_DATABASE_URL is set (PostgreSQL in Kubernetes): a webhook redelivered to another
replica is still recognised, and a restarted pod forgets nothing. Batching as in BatchedKeys. Every
query is bounded by `timeout`, so a database that hangs costs a webhook at most that long: a failed
lookup publishes anyway (a duplicate is absorbed downstream by the event id), a failed write keeps
the keys in memory until the database is back.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import Float, String, Text, case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from vigie_shared.db import SqlStore

from vigie_ingest.adapters.batched import BatchedKeys
from vigie_ingest.domain.ports import StoreUnavailable

T = TypeVar("T")

_CHUNK = 500  # keys per statement: far below either backend's parameter limit


class Base(DeclarativeBase):
    pass


class IdempotencyRow(Base):
    __tablename__ = "ingest_idempotency"

    # A digest of the key: keys are as long as a platform's ids make them, an index entry is not.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires: Mapped[float] = mapped_column(Float, index=True)


class CursorRow(Base):
    __tablename__ = "ingest_cursors"

    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class SqlState(BatchedKeys, SqlStore):
    """Implements IdempotencyStore and CursorStore on SQLAlchemy async (PostgreSQL or SQLite)."""

    metadata = Base.metadata
    migrations = "vigie_ingest:migrations"
    version_table = "alembic_version_ingest"

    def __init__(self, engine: AsyncEngine, *, flush_delay: float = 0.01, timeout: float = 2.0) -> None:
        BatchedKeys.__init__(self, flush_delay=flush_delay)
        SqlStore.__init__(self, engine)
        self._timeout = timeout
        self._open = False

    async def start(self) -> None:
        """Migrates the schema; raises StoreUnavailable if the database cannot be reached."""
        try:
            await self.migrate()
        except (SQLAlchemyError, OSError) as error:
            raise StoreUnavailable(f"ingest state store cannot open: {type(error).__name__}") from error
        self._open = True

    async def close(self) -> None:
        if self._open:
            await self._stop_flushing()
            self._open = False

    def _check_open(self) -> None:
        if not self._open:
            raise StoreUnavailable("ingest state store is not started")

    async def _bounded(self, what: str, work: Callable[[], Awaitable[T]]) -> T:
        self._check_open()
        try:
            async with asyncio.timeout(self._timeout):
                return await work()
        except TimeoutError as error:
            raise StoreUnavailable(f"{what} timed out after {self._timeout} s") from error
        except (SQLAlchemyError, OSError) as error:
            # The type only: hide_parameters keeps values out, but a message may still quote SQL.
            raise StoreUnavailable(f"{what} failed: {type(error).__name__}") from error

    # --- idempotency keys ------------------------------------------------------------------

    async def _fetch(self, keys: list[str]) -> dict[str, float]:
        by_digest = {_digest(key): key for key in keys}
        digests = list(by_digest)

        async def read() -> dict[str, float]:
            stored: dict[str, float] = {}
            async with self.engine.connect() as connection:
                for start in range(0, len(digests), _CHUNK):
                    rows = await connection.execute(
                        select(IdempotencyRow.key, IdempotencyRow.expires).where(
                            IdempotencyRow.key.in_(digests[start : start + _CHUNK])
                        )
                    )
                    stored.update((by_digest[digest], float(expires)) for digest, expires in rows)
            return stored

        return await self._bounded("idempotency read", read)

    async def _store(self, batch: dict[str, float]) -> None:
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        rows = [{"key": _digest(key), "expires": expires} for key, expires in batch.items()]

        async def write() -> None:
            # One transaction for the batch; keys are sorted so two replicas writing overlapping
            # batches take their row locks in the same order and cannot deadlock.
            rows.sort(key=lambda row: str(row["key"]))
            async with self.engine.begin() as connection:
                for start in range(0, len(rows), _CHUNK):
                    statement = insert(IdempotencyRow).values(rows[start : start + _CHUNK])
                    later = case(
                        (IdempotencyRow.expires > statement.excluded.expires, IdempotencyRow.expires),
                        else_=statement.excluded.expires,
                    )
                    await connection.execute(
                        statement.on_conflict_do_update(index_elements=["key"], set_={"expires": later})
                    )

        await self._bounded("idempotency write", write)

    async def _delete_expired(self, now: float) -> int:
        async def purge() -> int:
            async with self.engine.begin() as connection:
                result = await connection.execute(delete(IdempotencyRow).where(IdempotencyRow.expires <= now))
            return int(result.rowcount)

        return await self._bounded("idempotency purge", purge)

    # --- cursors ---------------------------------------------------------------------------

    async def get(self, name: str) -> str | None:
        async def read() -> str | None:
            async with self.engine.connect() as connection:
                value = await connection.scalar(select(CursorRow.value).where(CursorRow.name == name))
            return None if value is None else str(value)

        return await self._bounded("cursor read", read)

    async def put(self, name: str, value: str) -> None:
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert

        async def write() -> None:
            statement = insert(CursorRow).values(name=name, value=value)
            async with self.engine.begin() as connection:
                await connection.execute(
                    statement.on_conflict_do_update(
                        index_elements=["name"], set_={"value": statement.excluded.value}
                    )
                )

        await self._bounded("cursor write", write)
