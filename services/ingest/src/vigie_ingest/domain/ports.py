"""What ingest needs from storage. Each port has a SQL adapter (the shared database), a SQLite file
adapter (one process) and an in-memory fake."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class StoreUnavailable(RuntimeError):
    """The state store could not be read or written."""


class IdempotencyStore(Protocol):
    async def seen(self, keys: Iterable[str], now: float) -> set[str]:
        """The keys among `keys` recorded and not yet expired at `now`."""
        ...

    async def remember(self, key: str, expires: float) -> None:
        """Records `key` until `expires`. Called only after the event is on the bus."""
        ...

    async def purge(self, now: float) -> int:
        """Drops expired keys; returns how many."""
        ...


class CursorStore(Protocol):
    """Small named values that let a poller resume where it stopped (YouTube)."""

    async def get(self, name: str) -> str | None: ...

    async def put(self, name: str, value: str) -> None: ...
