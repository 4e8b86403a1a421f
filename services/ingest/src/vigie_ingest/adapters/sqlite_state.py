"""Idempotency keys and poller cursors in one small SQLite file, so both survive a restart.

The default for one process (`make run`); replicas share SqlState instead. Each aiosqlite call is a
hop to its worker thread, which costs more than the query: see BatchedKeys for how reads are
batched and writes put behind.
"""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from vigie_ingest.adapters.batched import BatchedKeys
from vigie_ingest.domain.ports import StoreUnavailable

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


class SqliteState(BatchedKeys):
    """Implements IdempotencyStore and CursorStore on one aiosqlite connection."""

    def __init__(self, path: Path, *, flush_delay: float = 0.01) -> None:
        super().__init__(flush_delay=flush_delay)
        self._path = path
        self._db: aiosqlite.Connection | None = None

    async def start(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = await aiosqlite.connect(self._path, timeout=30, isolation_level=None)
            await db.execute("PRAGMA journal_mode=WAL")
            # NORMAL, not FULL: see BatchedKeys on what a crash may lose. The bus itself stays FULL.
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.execute("PRAGMA busy_timeout=30000")
            await db.executescript(_SCHEMA)
        except aiosqlite.Error as error:
            raise StoreUnavailable(f"ingest state store cannot open: {error}") from error
        self._db = db

    async def close(self) -> None:
        if self._db is not None:
            await self._stop_flushing()
            await self._db.close()
            self._db = None

    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StoreUnavailable("ingest state store is not started")
        return self._db

    def _check_open(self) -> None:
        self._conn()

    # --- idempotency keys ------------------------------------------------------------------

    async def _fetch(self, keys: list[str]) -> dict[str, float]:
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

    async def _store(self, batch: dict[str, float]) -> None:
        try:
            await self._conn().executemany(
                "INSERT INTO idempotency (key, expires) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET expires = MAX(expires, excluded.expires)",
                list(batch.items()),
            )
        except aiosqlite.Error as error:
            raise StoreUnavailable(f"idempotency write failed: {error}") from error

    async def _delete_expired(self, now: float) -> int:
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
