"""Alembic entry point for ingest's shared state (applied by SqlState at start-up)."""

from vigie_shared.migrations import run_migrations

from vigie_ingest.adapters.sql_state import Base

run_migrations(Base.metadata)
