"""Database schemas change through Alembic migrations: one history per service, applied at start-up.

Each service keeps its scripts in its own package (`vigie_<service>/migrations`) and its own version
table, so several services can share one PostgreSQL database. Replicas starting together are
serialised (an advisory lock on PostgreSQL, a lock file beside a SQLite database) so exactly one of
them applies a revision and the others find it done.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from alembic import command, context
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine


def alembic_config(script_location: str, version_table: str) -> Config:
    config = Config()
    config.set_main_option("script_location", script_location)
    config.attributes["version_table"] = version_table
    return config


async def upgrade(engine: AsyncEngine, script_location: str, version_table: str) -> None:
    """Brings the database to the newest revision of this service's history."""
    config = alembic_config(script_location, version_table)
    async with _sqlite_lock(engine), engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(version_table)}
            )
        await connection.run_sync(_upgrade, config)


def _upgrade(connection: Connection, config: Config) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def pending_changes(engine: AsyncEngine, metadata: MetaData, version_table: str) -> list[Any]:
    """What the models declare that the migrated database lacks: empty when the history is complete."""

    def compare(connection: Connection) -> list[Any]:
        migration = MigrationContext.configure(
            connection, opts={"version_table": version_table, "compare_type": True}
        )
        return list(compare_metadata(migration, metadata))

    async with engine.connect() as connection:
        return await connection.run_sync(compare)


def run_migrations(metadata: MetaData) -> None:
    """The body of every service's `migrations/env.py`: online only, on the connection handed in."""
    config = context.config
    connection: Connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=config.attributes["version_table"],
        compare_type=True,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def _render_item(kind: str, item: Any, autogen_context: Any) -> str | Literal[False]:
    """Our own column types render as an import plus a call, so generated scripts run as written."""
    from vigie_shared.db import UtcDateTime

    if kind == "type" and isinstance(item, UtcDateTime):
        autogen_context.imports.add("from vigie_shared.db import UtcDateTime")
        return "UtcDateTime()"
    return False


def _lock_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@asynccontextmanager
async def _sqlite_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(database).with_name(Path(database).name + ".migrate.lock")
    with lock_path.open("a") as handle:
        # Waited for in a thread: the holder may be another task of this very process.
        await asyncio.to_thread(fcntl.flock, handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
