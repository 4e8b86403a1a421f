"""Idempotency keys and poller cursors in one small SQLite file, so both survive a restart.

Each aiosqlite call is a hop to its worker thread, which costs more than the query. So lookups made
while one is in flight are answered together by the next query, and recorded keys are written
behind, a batch at a time, within `flush_delay` seconds. A key not yet written is still seen (it is
held in memory until then). What a crash loses is at most the last batch of keys, for deliveries
that were already answered 2xx: a platform re-sends those only by mistake, and consumers are
idempotent on the event id, which is deterministic.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import aiosqlite
import structlog
from vigie_shared.coalesce import Coalescer

from vigie_ingest.domain.ports import StoreUnavailable

log = structlog.get_logger("vigie.ingest.state")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    expires REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_expires ON idempotency (expires);
CREATE TABLE IF NOT EXISTS cursors (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
"""

_MAX_PARAMS = 500  # below SQLite's host-parameter limit, with room to spare


class SqliteState:
    """Implements IdempotencyStore and CursorStore on one aiosqlite connection."""

    def __init__(self, path: Path, *, flush_delay: float = 0.01) -> None:
        self._path = path
        self._flush_delay = flush_delay
        self._db: aiosqlite.Connection | None = None
        self._unwritten: dict[str, float] = {}
        self._flusher: asyncio.Task[None] | None = None
        # Lookups that arrive while a query runs wait for the next one and share it.
        self._lookups: Coalescer[list[str], dict[str, float]] = Coalescer(
            self._read_batch, name="idempotency-lookups"
        )

    async def start(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = await aiosqlite.connect(self._path, timeout=30, isolation_level=None)
            await db.execute("PRAGMA journal_mode=WAL")
            # NORMAL, not FULL: see the module docstring. The bus itself stays FULL.
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.execute("PRAGMA busy_timeout=30000")
            await db.executescript(_SCHEMA)
        except aiosqlite.Error as error:
            raise StoreUnavailable(f"ingest state store cannot open: {error}") from error
        self._db = db

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        if self._db is not None:
            with contextlib.suppress(StoreUnavailable):
                await self.flush()
            await self._db.close()
            self._db = None

    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StoreUnavailable("ingest state store is not started")
        return self._db

    # --- idempotency keys ------------------------------------------------------------------

    async def seen(self, keys: Iterable[str], now: float) -> set[str]:
        wanted = list(dict.fromkeys(keys))
        found = {key for key in wanted if self._unwritten.get(key, 0.0) > now}
        rest = [key for key in wanted if key not in found]
        if not rest:
            return found
        self._conn()
        stored = await self._lookups.submit(rest)
        return found | {key for key in rest if stored.get(key, 0.0) > now}

    async def _read_batch(self, wanted: Sequence[list[str]]) -> dict[str, float]:
        return await self._read(list(dict.fromkeys(key for keys in wanted for key in keys)))

    async def _read(self, keys: list[str]) -> dict[str, float]:
        stored: dict[str, float] = {}
        try:
            for start in range(0, len(keys), _MAX_PARAMS):
                chunk = keys[start : start + _MAX_PARAMS]
                marks = ",".join("?" * len(chunk))
                rows = await self._conn().execute_fetchall(
                    f"SELECT key, expires FROM idempotency WHERE key IN ({marks})",  # noqa: S608
                    chunk,
                )
                stored.update((str(key), float(expires)) for key, expires in rows)
        except aiosqlite.Error as error:
            raise StoreUnavailable(f"idempotency read failed: {error}") from error
        return stored

    async def remember(self, key: str, expires: float) -> None:
        self._conn()
        self._unwritten[key] = max(expires, self._unwritten.get(key, 0.0))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_soon(), name="idempotency-flush")

    async def _flush_soon(self) -> None:
        await asyncio.sleep(self._flush_delay)
        try:
            await self.flush()
        except StoreUnavailable as error:
            # Kept in memory: they are still seen, and the next key recorded retries the write.
            log.warning("idempotency_write_failed", error=str(error), unwritten=len(self._unwritten))

    async def flush(self) -> None:
        """Writes every recorded key now (also done on close)."""
        if not self._unwritten:
            return
        batch = dict(self._unwritten)
        try:
            await self._conn().executemany(
                "INSERT INTO idempotency (key, expires) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET expires = MAX(expires, excluded.expires)",
                list(batch.items()),
            )
        except aiosqlite.Error as error:
            raise StoreUnavailable(f"idempotency write failed: {error}") from error
        for key, expires in batch.items():
            if self._unwritten.get(key) == expires:
                del self._unwritten[key]

    async def purge(self, now: float) -> int:
        await self.flush()
        try:
            cursor = await self._conn().execute("DELETE FROM idempotency WHERE expires <= ?", (now,))
        except aiosqlite.Error as error:
            raise StoreUnavailable(f"idempotency purge failed: {error}") from error
        return cursor.rowcount

    # --- cursors ---------------------------------------------------------------------------

    async def get(self, name: str) -> str | None:
        try:
            rows = await self._conn().execute_fetchall("SELECT value FROM cursors WHERE name = ?", (name,))
        except aiosqlite.Error as error:
            raise StoreUnavailable(f"cursor read failed: {error}") from error
        for row in rows:
            return str(row[0])
        return None

    async def put(self, name: str, value: str) -> None:
        try:
            await self._conn().execute(
                "INSERT INTO cursors (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )
        except aiosqlite.Error as error:
            raise StoreUnavailable(f"cursor write failed: {error}") from error
