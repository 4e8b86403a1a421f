"""The batching both durable state stores share: lookups answered together, keys written behind.

A database round trip costs more than the query, so lookups made while one is in flight are
answered together by the next query, and recorded keys are written behind, a batch at a time,
within `flush_delay` seconds. A key not yet written is still seen (it is held in memory until
then), and a failed write keeps it in memory and is retried by the next key recorded, so a store
that is down is waited out. What a crash loses is at most the keys not yet written, for deliveries
that were already answered 2xx: a platform re-sends those only by mistake, and consumers are
idempotent on the event id, which is deterministic.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence

import structlog
from vigie_shared.coalesce import Coalescer

from vigie_ingest.domain.ports import StoreUnavailable

log = structlog.get_logger("vigie.ingest.state")


class BatchedKeys(ABC):
    """IdempotencyStore on top of three queries a subclass provides; each raises StoreUnavailable."""

    def __init__(self, *, flush_delay: float) -> None:
        self._flush_delay = flush_delay
        self._unwritten: dict[str, float] = {}
        self._flusher: asyncio.Task[None] | None = None
        # One write (or purge) at a time: on a pool of connections, a write still in flight could
        # otherwise land after a purge and bring back a key it removed.
        self._writing = asyncio.Lock()
        # Lookups that arrive while a query runs wait for the next one and share it.
        self._lookups: Coalescer[list[str], dict[str, float]] = Coalescer(
            self._read_batch, name="idempotency-lookups"
        )

    @abstractmethod
    def _check_open(self) -> None:
        """Raises StoreUnavailable when the store is not started (or already closed)."""

    @abstractmethod
    async def _fetch(self, keys: list[str]) -> dict[str, float]:
        """The stored expiry of each of `keys` that is stored."""

    @abstractmethod
    async def _store(self, batch: dict[str, float]) -> None:
        """Upserts every key, keeping the later expiry of the stored and the new one."""

    @abstractmethod
    async def _delete_expired(self, now: float) -> int: ...

    async def seen(self, keys: Iterable[str], now: float) -> set[str]:
        wanted = list(dict.fromkeys(keys))
        found = {key for key in wanted if self._unwritten.get(key, 0.0) > now}
        rest = [key for key in wanted if key not in found]
        if not rest:
            return found
        self._check_open()
        stored = await self._lookups.submit(rest)
        return found | {key for key in rest if stored.get(key, 0.0) > now}

    async def _read_batch(self, wanted: Sequence[list[str]]) -> dict[str, float]:
        return await self._fetch(list(dict.fromkeys(key for keys in wanted for key in keys)))

    async def remember(self, key: str, expires: float) -> None:
        self._check_open()
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
        async with self._writing:
            await self._flush_locked()

    async def _flush_locked(self) -> None:
        if not self._unwritten:
            return
        batch = dict(self._unwritten)
        await self._store(batch)
        for key, expires in batch.items():
            if self._unwritten.get(key) == expires:
                del self._unwritten[key]

    async def purge(self, now: float) -> int:
        async with self._writing:
            await self._flush_locked()
            return await self._delete_expired(now)

    async def _stop_flushing(self) -> None:
        """Ends the pending write-behind task and writes what it would have; for close()."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        try:
            await self.flush()
        except StoreUnavailable as error:
            log.warning("idempotency_unwritten_at_close", error=str(error), unwritten=len(self._unwritten))
