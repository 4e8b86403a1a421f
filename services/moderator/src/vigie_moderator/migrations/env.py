"""Alembic entry point for the moderator's schema (applied by the store at start-up)."""

from vigie_shared.migrations import run_migrations

import vigie_moderator.adapters.policies  # noqa: F401  (registers every table on Base.metadata)
from vigie_moderator.adapters.store import Base

run_migrations(Base.metadata)
