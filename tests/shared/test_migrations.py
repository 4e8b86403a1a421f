"""Every service's Alembic history builds exactly the schema its models declare, on both backends."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import inspect
from vigie_audit.adapters.store import AuditStore
from vigie_ingest.adapters.sql_state import SqlState
from vigie_moderator.adapters.store import ReviewStore
from vigie_responder.adapters.store import DraftStore
from vigie_shared.db import SqlStore, create_engine
from vigie_shared.migrations import pending_changes

STORES = [SqlState, DraftStore, ReviewStore, AuditStore]


@pytest.mark.parametrize("store_type", STORES, ids=lambda store: store.__name__)
async def test_history_matches_models(store_type: type[SqlStore], database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await store_type(engine).migrate()
        assert await pending_changes(engine, store_type.metadata, store_type.version_table) == []
    finally:
        await engine.dispose()


async def test_services_share_one_database_without_clashing(database_url: str) -> None:
    """Separate version tables: one service's history never mistakes another's revision for its own."""
    engine = create_engine(database_url)
    try:
        for store_type in STORES:
            await store_type(engine).migrate()
        async with engine.connect() as connection:
            tables = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
        for store_type in STORES:
            assert store_type.version_table in tables
            assert set(store_type.metadata.tables) <= tables
    finally:
        await engine.dispose()


async def test_replicas_migrating_at_once_apply_each_revision_once(database_url: str) -> None:
    engines = [create_engine(database_url) for _ in range(3)]
    try:
        await asyncio.gather(*(DraftStore(engine).migrate() for engine in engines))
        assert await pending_changes(engines[0], DraftStore.metadata, DraftStore.version_table) == []
    finally:
        for engine in engines:
            await engine.dispose()
