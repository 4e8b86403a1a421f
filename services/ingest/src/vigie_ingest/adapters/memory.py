"""In-memory fakes of the storage ports, for unit tests and throwaway runs."""

from __future__ import annotations

from collections.abc import Iterable


class MemoryState:
    """Implements IdempotencyStore and CursorStore in dictionaries."""

    def __init__(self) -> None:
        self.keys: dict[str, float] = {}
        self.cursors: dict[str, str] = {}

    async def seen(self, keys: Iterable[str], now: float) -> set[str]:
        return {key for key in keys if self.keys.get(key, 0.0) > now}

    async def remember(self, key: str, expires: float) -> None:
        self.keys[key] = expires

    async def purge(self, now: float) -> int:
        expired = [key for key, expires in self.keys.items() if expires <= now]
        for key in expired:
            del self.keys[key]
        return len(expired)

    async def get(self, name: str) -> str | None:
        return self.cursors.get(name)

    async def put(self, name: str, value: str) -> None:
        self.cursors[name] = value

    async def close(self) -> None:
        return None
