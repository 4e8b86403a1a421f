"""Making an erasure physical on SQLite: deleted bytes zeroed, the write-ahead log emptied.

SQLite leaves deleted rows in free pages and keeps old page images in the WAL until a checkpoint;
an erasure that stopped at DELETE would leave the text readable in both files. PostgreSQL's dead
tuples are reclaimed by (auto)vacuum; its WAL and backups are governed by the operator's own
retention, which deploy/README.md documents.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession


async def zero_on_delete(session: AsyncSession) -> None:
    """Call first in a transaction that deletes or overwrites personal data."""
    if session.get_bind().dialect.name == "sqlite":
        await session.execute(text("PRAGMA secure_delete=ON"))


class WipeIncomplete(RuntimeError):
    """The WAL still holds old page images: the erasure must be retried (the consumer will)."""


async def truncate_wal(engine: AsyncEngine, attempts: int = 50) -> None:
    """After the transaction commits: copies the WAL into the database and truncates it to zero.

    A reader in another process can hold the checkpoint back (it answers busy rather than waits);
    retried for a few seconds, then WipeIncomplete.
    """
    if engine.dialect.name != "sqlite":
        return
    for attempt in range(attempts):
        async with engine.connect() as connection:
            result = await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            row = result.first()
        if row is None or int(row[0]) == 0:
            return
        await asyncio.sleep(0.02 * (attempt + 1))
    raise WipeIncomplete("the write-ahead log could not be truncated: readers kept it busy")
