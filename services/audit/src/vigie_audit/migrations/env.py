"""Alembic entry point for the audit's schema (applied by the store at start-up)."""

from vigie_shared.migrations import run_migrations

# Imported for its tables: the report facts share the audit log's declarative base and history.
import vigie_audit.adapters.facts  # noqa: F401
from vigie_audit.adapters.store import Base

run_migrations(Base.metadata)
