"""Alembic entry point for the responder's schema (applied by the store at start-up)."""

from vigie_shared.migrations import run_migrations

from vigie_responder.adapters import knowledge  # noqa: F401  (its tables join Base.metadata)
from vigie_responder.adapters.store import Base

run_migrations(Base.metadata)
