"""One contract for the idempotency and cursor stores: the SQLite adapter and the in-memory fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from vigie_ingest.adapters.memory import MemoryState
from vigie_ingest.adapters.sqlite_state import SqliteState
from vigie_ingest.domain.ports import StoreUnavailable


@pytest.fixture(params=["sqlite", "memory"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    if request.param == "memory":
        yield MemoryState()
        return
    state = SqliteState(tmp_path / "nested" / "state.db")
    await state.start()
    yield state
    await state.close()


async def test_remembered_keys_are_seen_until_they_expire(store: Any) -> None:
    await store.remember("a", expires=100.0)
    await store.remember("b", expires=200.0)
    assert await store.seen(["a", "b", "c"], now=50.0) == {"a", "b"}
    assert await store.seen(["a", "b"], now=150.0) == {"b"}
    assert await store.purge(now=150.0) == 1
    assert await store.seen(["a", "b"], now=0.0) == {"b"}


async def test_many_keys_at_once(store: Any) -> None:
    keys = [f"k{i}" for i in range(1_200)]  # more than one SQL statement's worth of parameters
    for key in keys[::2]:
        await store.remember(key, expires=10.0)
    assert await store.seen(keys, now=1.0) == set(keys[::2])


async def test_cursors_overwrite(store: Any) -> None:
    assert await store.get("youtube:cursor:x") is None
    await store.put("youtube:cursor:x", "1")
    await store.put("youtube:cursor:x", "2")
    assert await store.get("youtube:cursor:x") == "2"


async def test_sqlite_state_survives_reopening(tmp_path: Path) -> None:
    first = SqliteState(tmp_path / "state.db")
    await first.start()
    await first.remember("k", expires=10.0)
    await first.put("c", "v")
    await first.close()
    second = SqliteState(tmp_path / "state.db")
    await second.start()
    assert await second.seen(["k"], now=1.0) == {"k"}
    assert await second.get("c") == "v"
    await second.close()


async def test_closed_sqlite_state_says_so(tmp_path: Path) -> None:
    state = SqliteState(tmp_path / "state.db")
    with pytest.raises(StoreUnavailable):
        await state.seen(["k"], now=1.0)
