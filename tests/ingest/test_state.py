"""One contract for the idempotency and cursor stores: the SQLite file, the shared SQL database
(SQLite and PostgreSQL) and the in-memory fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from vigie_ingest.adapters.memory import MemoryState
from vigie_ingest.adapters.sql_state import SqlState
from vigie_ingest.adapters.sqlite_state import SqliteState
from vigie_ingest.domain.ports import StoreUnavailable
from vigie_shared.db import create_engine

from tests.conftest import fresh_postgres


@pytest.fixture(
    params=["sqlite", "memory", "sql-sqlite", pytest.param("sql-postgres", marks=pytest.mark.postgres)]
)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    if request.param == "memory":
        yield MemoryState()
        return
    if request.param == "sql-sqlite":
        async with _shared(f"sqlite+aiosqlite:///{tmp_path}/shared.db") as shared:
            yield shared
        return
    if request.param == "sql-postgres":
        async with (
            fresh_postgres(str(request.getfixturevalue("postgres_url"))) as url,
            _shared(url) as shared,
        ):
            yield shared
        return
    state = SqliteState(tmp_path / "nested" / "state.db")
    await state.start()
    yield state
    await state.close()


@asynccontextmanager
async def _shared(url: str) -> AsyncIterator[SqlState]:
    engine = create_engine(url)
    try:
        shared = SqlState(engine)
        await shared.start()
        yield shared
        await shared.close()
    finally:
        await engine.dispose()


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


async def test_sql_state_is_shared_and_survives_reopening(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        first, second = SqlState(engine), SqlState(engine)
        await first.start()
        await second.start()  # the second migration finds the schema done
        long_key = "meta:" + "x" * 5_000  # stored as a digest, so no index limit applies
        await first.remember(long_key, expires=10.0)
        await first.remember("k", expires=10.0)
        await first.remember("k", expires=5.0)  # an earlier expiry never shortens a stored one
        await first.put("c", "v")
        await first.close()  # flushes what was written behind
        assert await second.seen([long_key, "k", "other"], now=7.0) == {long_key, "k"}
        assert await second.get("c") == "v"
        await second.close()
    finally:
        await engine.dispose()


async def test_sql_state_waits_out_a_database_that_is_down(database_url: str) -> None:
    """Writes that fail stay in memory, still seen, and reach the database once it is back."""
    engine = create_engine(database_url)
    state = SqlState(engine, flush_delay=0.0, timeout=1.0)
    await state.start()
    working = state._store
    failures = 0

    async def down(batch: dict[str, float]) -> None:
        nonlocal failures
        failures += 1
        raise StoreUnavailable("database down (test)")

    state._store = down  # type: ignore[method-assign]
    await state.remember("k", expires=10.0)
    with pytest.raises(StoreUnavailable):
        await state.flush()
    assert failures >= 1
    assert await state.seen(["k"], now=1.0) == {"k"}  # from memory
    state._store = working  # type: ignore[method-assign]
    await state.flush()
    await state.close()
    other = SqlState(engine)
    await other.start()
    assert await other.seen(["k"], now=1.0) == {"k"}  # from the database
    await other.close()
    await engine.dispose()


async def test_sql_state_unreachable_says_so() -> None:
    engine = create_engine("postgresql+asyncpg://vigie:vigie@127.0.0.1:9/nowhere")
    state = SqlState(engine, timeout=1.0)
    try:
        with pytest.raises(StoreUnavailable):
            await state.start()
        with pytest.raises(StoreUnavailable):
            await state.seen(["k"], now=1.0)
    finally:
        await engine.dispose()
