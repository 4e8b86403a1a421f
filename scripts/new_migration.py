"""Writes a service's next Alembic revision from the difference between its models and its history.

    uv run python scripts/new_migration.py responder "add reply jobs"

Applies the existing history to a scratch SQLite database, then autogenerates against it; read the
result before committing (autogenerate misses renames and data moves).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import tempfile
from pathlib import Path

from alembic import command
from vigie_shared.db import SqlStore, create_engine
from vigie_shared.migrations import alembic_config

STORES = {
    "ingest": "vigie_ingest.adapters.sql_state:SqlState",
    "responder": "vigie_responder.adapters.store:DraftStore",
    "moderator": "vigie_moderator.adapters.store:ReviewStore",
    "audit": "vigie_audit.adapters.store:AuditStore",
}


def load_store(service: str) -> type[SqlStore]:
    module_name, _, name = STORES[service].partition(":")
    store: type[SqlStore] = getattr(importlib.import_module(module_name), name)
    return store


async def main(service: str, message: str) -> None:
    store_type = load_store(service)
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(scratch) / 'scratch.db'}")
        try:
            await store_type(engine).migrate()
            config = alembic_config(store_type.migrations, store_type.version_table)

            def revision(connection: object) -> None:
                config.attributes["connection"] = connection
                command.revision(config, message=message, autogenerate=True)

            async with engine.begin() as connection:
                await connection.run_sync(revision)
        finally:
            await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("service", choices=sorted(STORES))
    parser.add_argument("message")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.service, arguments.message))
